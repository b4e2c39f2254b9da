import { LRUCache } from 'lru-cache';
import { assert } from '../../../domain/assert';

/** A bounded LRU of each stream's last revision: a hint that saves a query, never the truth. */
export type RevisionCache = {
  get(stream: string): number | undefined;
  set(stream: string, revision: number): void;
  delete(stream: string): void;
};

export const createRevisionCache = (entryCountMax: number): RevisionCache => {
  assert(
    Number.isSafeInteger(entryCountMax) && entryCountMax > 0,
    'entryCountMax must be positive',
  );
  // lru-cache, not a Map re-inserted on each use: deleting and re-inserting a hot stream's entry
  // on every append leaves a deleted slot each time, and V8 compacts the whole Map over and over.
  const entries = new LRUCache<string, number>({ max: entryCountMax });
  return {
    get: (stream) => entries.get(stream),
    set: (stream, revision) => {
      entries.set(stream, revision);
    },
    delete: (stream) => {
      entries.delete(stream);
    },
  };
};
