import { assert } from '../../domain/assert';
import type { JsonObject, JsonValue } from '../../domain/ports/event-store.port';
import type { ColumnKind } from '../../domain/ports/read-model-store.port';

/**
 * A narrow table of the embedded read-model store (a collection whose spec lists `columns`): each
 * listed field in its own typed column `f_<field>`, and only what is left (fields not listed, or a
 * value of another type, such as null) as a JSON object in `body`, NULL when nothing is left. A
 * write binds numbers and short strings instead of making a JSON text of the whole document, and
 * the row is a third of the size. The table is keyed by id (WITHOUT ROWID): a write by id is one
 * seek. The column's declared type says how to read it back: TEXT a string, NUMERIC a number
 * (integers stored as integers), BOOLEAN 1/0 as true/false.
 */
const DECLARED_TYPES: Record<ColumnKind, string> = {
  string: 'TEXT',
  number: 'NUMERIC',
  boolean: 'BOOLEAN',
};

/** A stored column of a narrow table: its document field and the type of its values. */
export type NarrowColumn = { field: string; column: string; kind: ColumnKind };

/** The columns of a narrow table, as declared; null: the type is not one of ours. */
export const narrowKindOf = (declaredType: string): ColumnKind | null => {
  for (const [kind, type] of Object.entries(DECLARED_TYPES))
    if (type === declaredType.toUpperCase()) return kind as ColumnKind;
  return null;
};

/** A narrow table's column definition (the field is a checked identifier). */
export const narrowColumnDefinition = (field: string, kind: ColumnKind): string =>
  `f_${field} ${DECLARED_TYPES[kind]}`;

const fitsKind = (value: JsonValue | undefined, kind: ColumnKind): boolean =>
  kind === 'number' ? typeof value === 'number' && Number.isFinite(value) : typeof value === kind;

/**
 * A document as a narrow row: the columns' values in `columns` order (NULL where the document's
 * value is absent or of another type) and the JSON text of what no column holds (null: nothing).
 */
export const narrowRowOf = (
  document: JsonObject,
  columns: readonly NarrowColumn[],
  kinds: ReadonlyMap<string, ColumnKind>,
): { body: string | null; values: (string | number | null)[] } => {
  const values: (string | number | null)[] = new Array<string | number | null>(columns.length);
  for (let index = 0; index < columns.length; index += 1) {
    const { field, kind } = columns[index] as NarrowColumn;
    const value = document[field];
    values[index] = fitsKind(value, kind)
      ? kind === 'boolean'
        ? value === true
          ? 1
          : 0
        : (value as string | number)
      : null;
  }
  let rest: JsonObject | null = null;
  for (const field in document) {
    const kind = kinds.get(field);
    const value = document[field];
    if (value !== undefined && (kind === undefined || !fitsKind(value, kind)))
      (rest ??= {})[field] = value;
  }
  return { body: rest === null ? null : JSON.stringify(rest), values };
};

/** A narrow row read back (columns by name): the document as it was put. */
export const narrowDocumentOf = (
  row: Record<string, unknown>,
  columns: readonly NarrowColumn[],
): JsonObject => {
  const document: JsonObject = {};
  for (const { field, column, kind } of columns) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    if (kind === 'boolean') document[field] = value === 1;
    else {
      assert(typeof value === kind, `read model: column ${column} holds a ${typeof value}`);
      document[field] = value as string | number;
    }
  }
  const { body } = row;
  if (typeof body === 'string') Object.assign(document, JSON.parse(body) as JsonObject);
  return document;
};
