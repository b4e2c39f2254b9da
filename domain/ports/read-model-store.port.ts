import type { JsonObject } from './event-store.port';

/**
 * The read-model store port: query-shaped JSON documents in named collections, written only by
 * the projection runner. Every write goes through commit(), which applies a batch of document
 * changes and moves a checkpoint in one transaction, so a crash never separates the two.
 */

/** A query value is always a literal: the port has no way to express an operator. */
export type FieldValue = string | number | boolean;

/** A collection and the field lists it is queried and sorted by (one index per list). */
export type CollectionSpec = {
  name: string;
  indexes: readonly (readonly string[])[];
  /**
   * Top-level fields a store may keep each in its own typed column instead of in a JSON body (a
   * narrow table: a write binds values, no JSON text is made or parsed), by the JSON type of their
   * values; every indexed field must be listed. A document still reads back whole and the same: a
   * field not listed, or whose value is of another type (null), is kept as JSON beside them.
   * Stores without such tables (MongoDB) ignore it.
   */
  columns?: Readonly<Record<string, ColumnKind>>;
};

/** The JSON type of a narrow table's column (CollectionSpec.columns). */
export type ColumnKind = 'string' | 'number' | 'boolean';

export type DocumentChange =
  | {
      kind: 'put';
      collection: string;
      id: string;
      document: JsonObject;
      /**
       * The writer knows the stored document's indexed fields hold the values this one has (only
       * unindexed fields changed, or the document does not exist yet): a store may rewrite the
       * document without touching its indexes. The result is the same as without it.
       */
      indexedFieldsKept?: true;
    }
  | { kind: 'delete'; collection: string; id: string };

/** How far a projection has applied the global log, and the log time of that event. */
export type Checkpoint = { name: string; position: bigint; occurredAt: string };

export type DocumentQuery = {
  /** Equality on top-level fields. */
  where: Readonly<Record<string, FieldValue>>;
  /** Optional half-open range on one top-level field: from ≤ value < to. */
  range: { field: string; from: FieldValue | null; to: FieldValue | null } | null;
  /** Ties are broken by document id in the same direction, so pages never overlap. */
  orderBy: { field: string; direction: 'asc' | 'desc' };
  offset: number;
  limit: number;
};

export type FoundDocuments = { documents: JsonObject[]; totalCount: number };

/**
 * A keyset page: the documents after `after` (the order field's value and the id of the last
 * document of the previous page; null for the first page) in the query's order. No offset and no
 * count, so the cost of a page is the page's, however deep into the collection it starts.
 */
export type KeysetQuery = Omit<DocumentQuery, 'offset'> & {
  after: { value: FieldValue; id: string } | null;
};

export interface ReadModelStore {
  /** Creates the collection and its indexes if missing; idempotent. */
  ensureCollection(spec: CollectionSpec): Promise<void>;
  /** Drops the collection and its documents; a missing collection is not an error. */
  dropCollection(name: string): Promise<void>;
  /** The document with this id, or null. */
  get(collection: string, id: string): Promise<JsonObject | null>;
  /** The documents with these ids that exist, by id (one round to the store, not one per id). */
  getMany(collection: string, ids: readonly string[]): Promise<Map<string, JsonObject>>;
  /** A page of matching documents and how many match in all. */
  find(collection: string, query: DocumentQuery): Promise<FoundDocuments>;
  /** A keyset page of matching documents, along an index, without counting the matches. */
  findAfter(collection: string, query: KeysetQuery): Promise<JsonObject[]>;
  /** Applies the changes in order and, when given, saves the checkpoint: all or nothing. */
  commit(changes: readonly DocumentChange[], checkpoint: Checkpoint | null): Promise<void>;
  /** The checkpoint saved under name, or null. */
  readCheckpoint(name: string): Promise<Checkpoint | null>;
  /** Forgets a checkpoint (a dropped generation's). */
  deleteCheckpoint(name: string): Promise<void>;
  /** Releases connections and file handles. */
  close(): Promise<void>;
}

/** Collection and field names are code-defined identifiers, never request input. */
export const IDENTIFIER_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
