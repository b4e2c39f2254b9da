import type { SagaListQuery, SagaQuery } from '../domain/ports/saga-query.port';
import type {
  EventStore,
  EventSubscription,
  RecordedEvent,
} from '../domain/ports/event-store.port';
import {
  isFinal,
  sagaAggregate,
  type SagaEvent,
  type SagaRecord,
  type SagaState,
} from '../domain/saga/saga.decider';

/**
 * The saga list, folded from the saga streams of the log into memory on start and kept live.
 * Instances still active are always kept; of the final ones only the `finalSagaCountMax` most
 * recent, so memory stays bounded however many payments went through (GET /v1/sagas/{name}/{id}
 * reads any instance from its stream).
 */
export const createSagaCatalogue = (options: {
  store: EventStore;
  sagaNames: readonly string[];
  finalSagaCountMax: number;
}) => {
  const sagas = new Map<string, SagaRecord>();
  const finalKeys = new Set<string>();
  let subscription: EventSubscription | null = null;
  let following: Promise<void> = Promise.resolve();

  const apply = (event: RecordedEvent): void => {
    if (!event.stream.startsWith('saga-')) return;
    const key = event.stream.slice('saga-'.length);
    const current: SagaState =
      sagas.get(key) ?? (finalKeys.has(key) ? { status: 'none' } : sagaAggregate.initialState);
    if (current.status === 'none' && event.type !== 'SagaStarted') return; // Evicted earlier.
    const next = sagaAggregate.evolve(current, { type: event.type, data: event.data } as SagaEvent);
    if (next.status === 'none') return;
    sagas.delete(key); // Re-inserting keeps the Map in order of last change.
    sagas.set(key, next);
    finalKeys.delete(key);
    if (isFinal(next.status)) finalKeys.add(key);
    while (finalKeys.size > options.finalSagaCountMax) {
      const [oldest] = finalKeys;
      if (oldest === undefined) break;
      finalKeys.delete(oldest);
      sagas.delete(oldest);
    }
  };

  const query: SagaQuery = {
    sagaNames: () => options.sagaNames,
    list: (request: SagaListQuery) => {
      const matching = [...sagas.values()]
        .reverse()
        .filter(
          (saga) =>
            (request.status === null || saga.status === request.status) &&
            (request.sagaName === null || saga.sagaName === request.sagaName),
        );
      const from = (request.pageNum - 1) * request.pageSize;
      return Promise.resolve({
        sagas: matching.slice(from, from + request.pageSize),
        totalCount: matching.length,
      });
    },
  };

  return {
    query,
    start(): void {
      const source = options.store.subscribeToAll({ afterPosition: null });
      subscription = source;
      following = (async () => {
        for await (const event of source) apply(event);
      })();
    },
    async stop(): Promise<void> {
      await subscription?.close();
      await following;
    },
  };
};

export type SagaCatalogue = ReturnType<typeof createSagaCatalogue>;
