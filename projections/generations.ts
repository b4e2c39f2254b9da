import {
  countField,
  jsonObject,
  nullableStringField,
  oneOfField,
  stringField,
} from '../domain/json-fields';
import type { JsonObject } from '../domain/ports/event-store.port';
import type { ReadModelStore } from '../domain/ports/read-model-store.port';
import { asJson } from './projection';
import { checkpointOf, collectionIn, READ_MODELS, RETIRED_COLLECTIONS } from './read-models';

/**
 * Generations of the read models: each rebuild writes a new generation beside the live one, and
 * the 'active' pointer moves to it in one commit once it has caught up. A point-in-time rebuild
 * stays a 'snapshot' that auditors query explicitly. The registry is a collection of the same
 * store, so another process (the CLI) can rebuild and the service notices the switch.
 */
export type GenerationStatus = 'building' | 'live' | 'snapshot' | 'retired' | 'dropped';
export type GenerationRecord = {
  generation: number;
  status: GenerationStatus;
  version: number;
  untilPosition: string | null;
  untilTime: string | null;
  createdAt: string;
  switchedAt: string | null;
};

const GENERATION_STATUSES = [
  'building',
  'live',
  'snapshot',
  'retired',
  'dropped',
] as const satisfies readonly GenerationStatus[];

/** A generation's record read back from its registry document, checked field by field. */
const recordOf = (document: JsonObject): GenerationRecord => {
  const view = jsonObject(document['view'], 'generation record');
  return {
    generation: countField(view, 'generation'),
    status: oneOfField(view, 'status', GENERATION_STATUSES),
    version: countField(view, 'version'),
    untilPosition: nullableStringField(view, 'untilPosition'),
    untilTime: nullableStringField(view, 'untilTime'),
    createdAt: stringField(view, 'createdAt'),
    switchedAt: nullableStringField(view, 'switchedAt'),
  };
};

const REGISTRY = 'read_side_generations';
const ACTIVE_ID = 'active';
const GENERATIONS_LISTED_MAX = 100;

const idOf = (generation: number): string => `g${generation}`;

const recordDocument = (record: GenerationRecord): JsonObject =>
  asJson({ view: record, kind: 'generation', generation: record.generation });

export const createGenerationRegistry = (store: ReadModelStore) => {
  const read = async (generation: number): Promise<GenerationRecord | null> => {
    const document = await store.get(REGISTRY, idOf(generation));
    return document === null ? null : recordOf(document);
  };
  const list = async (): Promise<GenerationRecord[]> => {
    const found = await store.find(REGISTRY, {
      where: { kind: 'generation' },
      range: null,
      orderBy: { field: 'generation', direction: 'desc' },
      offset: 0,
      limit: GENERATIONS_LISTED_MAX,
    });
    return found.documents.map(recordOf);
  };
  const ensureCollections = async (generation: number): Promise<void> => {
    for (const projection of READ_MODELS) {
      for (const spec of projection.collections)
        await store.ensureCollection({ ...spec, name: collectionIn(spec.name, generation) });
    }
  };
  return {
    ensure: () => store.ensureCollection({ name: REGISTRY, indexes: [['kind', 'generation']] }),
    /**
     * Creates the generation's collections that are missing: a generation written by an older
     * version is followed live, with this version's projections, until its rebuild switches over.
     */
    ensureCollections,
    read,
    list,
    active: async (): Promise<number | null> => {
      const pointer = await store.get(REGISTRY, ACTIVE_ID);
      const generation = pointer?.['generation'];
      return typeof generation === 'number' ? generation : null;
    },
    /** Registers a new generation (one above every known one) and creates its collections. */
    create: async (
      fields: Omit<GenerationRecord, 'generation' | 'status' | 'switchedAt'>,
    ): Promise<GenerationRecord> => {
      const highest = (await list())[0]?.generation ?? 0;
      const record: GenerationRecord = {
        ...fields,
        generation: highest + 1,
        status: 'building',
        switchedAt: null,
      };
      await ensureCollections(record.generation);
      await store.commit(
        [
          {
            kind: 'put',
            collection: REGISTRY,
            id: idOf(record.generation),
            document: recordDocument(record),
          },
        ],
        null,
      );
      return record;
    },
    /** Moves 'active' to the generation and retires the previous one, in one commit. */
    switchTo: async (
      record: GenerationRecord,
      previous: GenerationRecord | null,
      now: string,
    ): Promise<void> => {
      const live = { ...record, status: 'live' as const, switchedAt: now };
      const changes = [
        {
          kind: 'put' as const,
          collection: REGISTRY,
          id: idOf(live.generation),
          document: recordDocument(live),
        },
        {
          kind: 'put' as const,
          collection: REGISTRY,
          id: ACTIVE_ID,
          document: { generation: live.generation, kind: 'pointer' },
        },
      ];
      if (previous !== null && previous.generation !== live.generation) {
        const retired = recordDocument({ ...previous, status: 'retired' });
        changes.push({
          kind: 'put',
          collection: REGISTRY,
          id: idOf(previous.generation),
          document: retired,
        });
      }
      await store.commit(changes, null);
    },
    mark: async (record: GenerationRecord, status: GenerationStatus): Promise<void> => {
      const document = recordDocument({ ...record, status });
      await store.commit(
        [{ kind: 'put', collection: REGISTRY, id: idOf(record.generation), document }],
        null,
      );
    },
    /** Drops a generation's collections and checkpoint; its record stays, marked dropped. */
    drop: async (record: GenerationRecord): Promise<void> => {
      const names = [
        ...READ_MODELS.flatMap((projection) => projection.collections.map((spec) => spec.name)),
        ...RETIRED_COLLECTIONS,
      ];
      for (const name of names) await store.dropCollection(collectionIn(name, record.generation));
      await store.deleteCheckpoint(checkpointOf(record.generation));
      await store.commit(
        [
          {
            kind: 'put',
            collection: REGISTRY,
            id: idOf(record.generation),
            document: recordDocument({ ...record, status: 'dropped' }),
          },
        ],
        null,
      );
    },
  };
};
