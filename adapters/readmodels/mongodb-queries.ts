import type { AnyBulkWriteOperation, Filter, IndexDescription } from 'mongodb';
import { assert } from '../../domain/assert';
import type { JsonObject } from '../../domain/ports/event-store.port';
import {
  IDENTIFIER_PATTERN,
  type CollectionSpec,
  type DocumentChange,
  type DocumentQuery,
  type FieldValue,
  type KeysetQuery,
} from '../../domain/ports/read-model-store.port';

/**
 * How the port's collections, queries and indexes look in MongoDB. Each document is stored as
 * { _id, body }, so a projection's field can never collide with _id; fields live at body.<field>.
 */
export type StoredDocument = { _id: string; body: JsonObject };

export const CHECKPOINTS_COLLECTION = 'rm_checkpoints';

export const storedCollectionOf = (name: string): string => {
  assert(IDENTIFIER_PATTERN.test(name), `read model: bad collection name ${name}`);
  return `rm_${name}`;
};

const pathOf = (field: string): string => {
  assert(IDENTIFIER_PATTERN.test(field), `read model: bad field name ${field}`);
  return `body.${field}`;
};

/** Defence in depth: the port's types already rule out objects, so an operator cannot get in. */
const literal = (value: FieldValue): FieldValue => {
  assert(['string', 'number', 'boolean'].includes(typeof value), 'read model: non-literal value');
  return value;
};

export const filterOf = (query: Pick<DocumentQuery, 'where' | 'range'>): Filter<StoredDocument> => {
  const filter: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(query.where))
    filter[pathOf(field)] = { $eq: literal(value) };
  const { range } = query;
  if (range !== null) {
    const bounds: Record<string, FieldValue> = {};
    if (range.from !== null) bounds['$gte'] = literal(range.from);
    if (range.to !== null) bounds['$lt'] = literal(range.to);
    const path = pathOf(range.field);
    filter[path] = { ...(filter[path] as object | undefined), ...bounds };
  }
  return filter as Filter<StoredDocument>;
};

/**
 * A keyset page's filter: the query's, and past the previous page's last (order value, id) in the
 * query's direction, which the index (fields, then _id) reads from a seek.
 */
export const keysetFilterOf = (query: KeysetQuery): Filter<StoredDocument> => {
  const filter = filterOf(query);
  if (query.after === null) return filter;
  const path = pathOf(query.orderBy.field);
  const past = query.orderBy.direction === 'asc' ? '$gt' : '$lt';
  const value = literal(query.after.value);
  const after = {
    $or: [
      { [path]: { [past]: value } },
      { [path]: { $eq: value }, _id: { [past]: query.after.id } },
    ],
  };
  return { $and: [filter, after] } as Filter<StoredDocument>;
};

/** The order field, then the id in the same direction: the port's tie-break. */
export const sortOf = (query: Pick<DocumentQuery, 'orderBy'>): Record<string, 1 | -1> => {
  const direction = query.orderBy.direction === 'asc' ? 1 : -1;
  return { [pathOf(query.orderBy.field)]: direction, _id: direction };
};

/**
 * One index per field list, with _id last. A list names a query's equality fields and then its
 * order field, so with the id tie-break appended the index holds matching documents in page order
 * (read backwards for 'desc'): MongoDB skips and limits along it instead of sorting every match.
 */
export const indexesOf = (spec: CollectionSpec): IndexDescription[] =>
  spec.indexes.map((fields) => {
    assert(fields.length > 0, `read model: empty index on ${spec.name}`);
    const key: Record<string, 1> = {};
    for (const field of fields) key[pathOf(field)] = 1;
    key['_id'] = 1;
    return { key };
  });

/** One ordered bulk write per collection (changes to two collections never touch one document). */
export const writesOf = (
  changes: readonly DocumentChange[],
): Map<string, AnyBulkWriteOperation<StoredDocument>[]> => {
  const groups = new Map<string, AnyBulkWriteOperation<StoredDocument>[]>();
  for (const change of changes) {
    const operations = groups.get(change.collection) ?? [];
    if (change.kind === 'put') {
      const replacement = { _id: change.id, body: change.document };
      operations.push({ replaceOne: { filter: { _id: change.id }, replacement, upsert: true } });
    } else {
      operations.push({ deleteOne: { filter: { _id: change.id } } });
    }
    groups.set(change.collection, operations);
  }
  return groups;
};
