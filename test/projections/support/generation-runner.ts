import type { EventStore } from '../../../domain/ports/event-store.port';
import type { ReadModelStore } from '../../../domain/ports/read-model-store.port';
import { createProjectionRunner } from '../../../projections/projection-runner';
import type { Projection } from '../../../projections/projection';
import { checkpointOf, collectionIn, READ_MODELS } from '../../../projections/read-models';

/**
 * Every read model's collections of generation 1 in `store`, and a runner that folds
 * `eventStore` into them: the read side without its host, for tests.
 */
export const generationOneRunner = async (
  eventStore: EventStore,
  store: ReadModelStore,
  limits: {
    batchEventCountMax: number;
    cachedDocumentCountMax: number;
    unitMsMax?: number;
    unitDocumentCountMax?: number;
    nowMs?: () => number;
  },
  projections: readonly Projection[] = READ_MODELS,
) => {
  for (const projection of projections)
    for (const spec of projection.collections)
      await store.ensureCollection({ ...spec, name: collectionIn(spec.name, 1) });
  const runner = createProjectionRunner({
    eventStore,
    store,
    projections,
    collectionName: (name) => collectionIn(name, 1),
    checkpointName: checkpointOf(1),
    ...limits,
    onCommitted: () => undefined,
  });
  await runner.load();
  return runner;
};
