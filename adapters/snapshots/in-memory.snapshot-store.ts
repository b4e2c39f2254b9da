import type { JsonValue } from '../../domain/ports/event-store.port';
import type { SavedSnapshot, SnapshotStore } from '../../domain/ports/snapshot-store.port';

/** Snapshots in a Map, kept as JSON text so that nobody shares the saved state with the caller. */
export const createInMemorySnapshotStore = (): SnapshotStore => {
  const saved = new Map<string, Omit<SavedSnapshot, 'state'> & { stateJson: string }>();
  return {
    load: (stream) => {
      const found = saved.get(stream);
      if (found === undefined) return Promise.resolve(null);
      const { stateJson, ...fields } = found;
      return Promise.resolve({ ...fields, state: JSON.parse(stateJson) as JsonValue });
    },
    save: ({ state, ...fields }) => {
      saved.set(fields.stream, { ...fields, stateJson: JSON.stringify(state) });
      return Promise.resolve();
    },
    listStreams: (afterStream, countMax) =>
      Promise.resolve(
        [...saved.keys()]
          .filter((stream) => afterStream === null || stream > afterStream)
          .sort()
          .slice(0, countMax),
      ),
  };
};
