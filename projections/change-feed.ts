import type { WatchedChange } from './projection';

/** In-process fan-out of committed changes to live watchers (SSE), keyed by stream. */
export type ChangeFeed = {
  /** Null when watcherCountMax watchers are already registered. */
  watch(stream: string, listener: (change: WatchedChange) => void): (() => void) | null;
  publish(changes: readonly WatchedChange[]): void;
};

export const createChangeFeed = (watcherCountMax: number): ChangeFeed => {
  const watchers = new Map<string, Set<(change: WatchedChange) => void>>();
  let count = 0;
  return {
    watch: (stream, listener) => {
      if (count >= watcherCountMax) return null;
      const set = watchers.get(stream) ?? new Set();
      set.add(listener);
      watchers.set(stream, set);
      count += 1;
      return () => {
        if (!set.delete(listener)) return;
        count -= 1;
        if (set.size === 0) watchers.delete(stream);
      };
    },
    publish: (changes) => {
      if (watchers.size === 0) return;
      for (const change of changes)
        watchers.get(change.stream)?.forEach((listener) => listener(change));
    },
  };
};
