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
  // A Map iterates in insertion order, so re-inserting on use keeps the oldest entry first.
  const entries = new Map<string, number>();
  return {
    get: (stream) => {
      const revision = entries.get(stream);
      if (revision !== undefined) {
        entries.delete(stream);
        entries.set(stream, revision);
      }
      return revision;
    },
    set: (stream, revision) => {
      entries.delete(stream);
      entries.set(stream, revision);
      if (entries.size <= entryCountMax) return;
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    },
    delete: (stream) => {
      entries.delete(stream);
    },
  };
};
