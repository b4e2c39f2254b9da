import type { CheckpointStore } from '../domain/ports/checkpoint-store.port';
import type {
  EventStore,
  EventSubscription,
  RecordedEvent,
} from '../domain/ports/event-store.port';
import { parseStored } from '../domain/aggregate';
import { sagaAggregate } from '../domain/saga/saga.decider';
import {
  triggerOf,
  type DeadlineRouting,
  type LedgerEvent,
  type SagaDefinition,
} from './saga-definition';
import type { SagaEngine } from './saga-engine';

/**
 * The safety net under the bus, reading the event log alone: a trigger whose saga has not started
 * within `graceMs` (its message was lost, e.g. JetStream's store was wiped) is started here, and
 * so is a deadline-started saga (payment expiry) once its deadline passes undone; an
 * open saga whose timer or retry is due, or which went quiet mid-step (a crash), is driven here.
 * Its checkpoint stays before the oldest trigger or saga still open, so after a restart it sees
 * all of them again: timers and retries survive restarts because they are in the log.
 */
type SagaSweeperOptions = {
  store: EventStore;
  checkpoints: CheckpointStore;
  engine: Pick<SagaEngine, 'definitions' | 'start' | 'drive'>;
  clock: () => number;
  graceMs: number;
  tickMs: number;
  sagasPerTickMax: number;
  onError: (what: string, fields: Record<string, unknown>) => void;
};

type Pending = {
  sagaName: string;
  sagaId: string;
  input: LedgerEventInput;
  /** When the start is due: the trigger's time + graceMs, or a deadline-started saga's deadline. */
  dueAtMs: number;
  position: bigint;
};
type LedgerEventInput = Extract<ReturnType<SagaDefinition['route']>, { kind: 'start' }>['input'];
type Open = {
  sagaName: string;
  sagaId: string;
  position: bigint;
  lastChangeMs: number;
  dueAtMs: number | null;
};

const SWEEPER_CHECKPOINT = 'saga-sweeper';
/**
 * Starts the log showed moot before their trigger came (a top-up's credit precedes the payment's
 * success in their commit), remembered until the trigger comes; past this many, the oldest go.
 */
const DONE_EARLY_COUNT_MAX = 10_000;
const FINAL_EVENTS = new Set([
  'SagaCompleted',
  'SagaCompensated',
  'SagaFailed',
  'SagaDeadLettered',
]);

const toLedgerEvent = (event: RecordedEvent): LedgerEvent => ({
  id: event.id,
  stream: event.stream,
  revision: event.revision,
  type: event.type,
  data: event.data,
  schemaVersion: event.metadata.schemaVersion,
  occurredAt: event.metadata.occurredAt,
});

export const createSagaSweeper = (options: SagaSweeperOptions) => {
  const pending = new Map<string, Pending>();
  const open = new Map<string, Open>();
  let lastPosition: bigint | null = null;
  let subscription: EventSubscription | null = null;
  let following: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let ticking = false;
  let savedCheckpoint: bigint | null = null;
  const doneEarly = new Set<string>();
  /** `<category>.<type>` of every event a definition routes, sets a deadline by or is done by. */
  const followed = new Set(
    options.engine.definitions.flatMap((definition) => [
      ...definition.triggers,
      ...(definition.deadline?.triggers ?? []),
      ...(definition.doneBy?.triggers ?? []),
    ]),
  );

  const trackSaga = (event: RecordedEvent, key: string): void => {
    const sagaEvent = parseStored(sagaAggregate, event);
    const changedMs = Date.parse(event.metadata.occurredAt);
    if (sagaEvent.type === 'SagaStarted' || sagaEvent.type === 'SagaRetried') {
      const started = sagaEvent.type === 'SagaStarted' ? sagaEvent.data : null;
      const known = open.get(key);
      const sagaName = started?.sagaName ?? known?.sagaName ?? sagaNameOf(key);
      if (sagaName === null) return;
      pending.delete(key);
      const sagaId = started?.sagaId ?? key.slice(sagaName.length + 1);
      open.set(key, {
        sagaName,
        sagaId,
        position: known?.position ?? event.position,
        lastChangeMs: changedMs,
        dueAtMs: null,
      });
      return;
    }
    const entry = open.get(key);
    if (entry === undefined) return;
    if (FINAL_EVENTS.has(sagaEvent.type)) open.delete(key);
    else if (sagaEvent.type === 'SagaStepDeferred')
      open.set(key, {
        ...entry,
        lastChangeMs: changedMs,
        dueAtMs: Date.parse(sagaEvent.data.nextRunAt),
      });
    else open.set(key, { ...entry, lastChangeMs: changedMs, dueAtMs: null });
  };

  const sagaNameOf = (key: string): string | null =>
    options.engine.definitions.find((definition) => key.startsWith(`${definition.name}-`))?.name ??
    null;

  const track = (event: RecordedEvent): void => {
    lastPosition = event.position;
    if (event.stream.startsWith('saga-')) trackSaga(event, event.stream.slice('saga-'.length));
    const trigger = triggerOf(event);
    // Most of the log (legs, channel facts, traffic) concerns no saga: nothing built for it.
    if (!followed.has(trigger)) return;
    const ledgerEvent = toLedgerEvent(event);
    for (const definition of options.engine.definitions) {
      if (definition.deadline?.triggers.includes(trigger) === true)
        trackDeadline(definition, definition.deadline.route(ledgerEvent), event.position);
      if (definition.doneBy?.triggers.includes(trigger) === true)
        trackDone(definition, definition.doneBy.sagaIdOf(ledgerEvent));
      if (!definition.triggers.includes(trigger)) continue;
      const routing = definition.route(ledgerEvent);
      if (routing?.kind !== 'start') continue;
      const key = `${definition.name}-${routing.sagaId}`;
      if (open.has(key) || doneEarly.delete(key)) continue;
      pending.set(key, {
        sagaName: definition.name,
        sagaId: routing.sagaId,
        input: routing.input,
        dueAtMs: Date.parse(ledgerEvent.occurredAt) + options.graceMs,
        position: event.position,
      });
    }
  };

  /**
   * The work of a saga done without it (doneWithout would say so): its start waiting for the
   * grace period is dropped, or, when the trigger is still to come, not added.
   */
  const trackDone = (definition: SagaDefinition, sagaId: string | null): void => {
    if (sagaId === null) return;
    const key = `${definition.name}-${sagaId}`;
    if (pending.delete(key) || open.has(key)) return;
    doneEarly.add(key);
    const [oldest] = doneEarly;
    if (doneEarly.size > DONE_EARLY_COUNT_MAX && oldest !== undefined) doneEarly.delete(oldest);
  };

  /** A deadline set (its start waits here until atMs) or made moot (the start is dropped). */
  const trackDeadline = (
    definition: SagaDefinition,
    routing: DeadlineRouting | null,
    position: bigint,
  ): void => {
    if (routing === null) return;
    const key = `${definition.name}-${routing.sagaId}`;
    if (routing.start === null) pending.delete(key);
    else if (!open.has(key))
      pending.set(key, {
        sagaName: definition.name,
        sagaId: routing.sagaId,
        input: routing.start.input,
        dueAtMs: routing.start.atMs,
        position,
      });
  };

  const safeCheckpoint = (): bigint | null => {
    let oldest: bigint | null = null;
    for (const entry of [...pending.values(), ...open.values()]) {
      if (oldest === null || entry.position < oldest) oldest = entry.position;
    }
    return oldest === null ? lastPosition : oldest - 1n;
  };

  const attempt = async (key: string, work: () => Promise<unknown>): Promise<void> => {
    try {
      await work();
    } catch (error: unknown) {
      options.onError('saga_sweep_failed', { saga: key, error: String(error) });
    }
  };

  /** One pass over what is due, at most sagasPerTickMax; then the checkpoint moves. */
  const tick = async (): Promise<void> => {
    if (ticking) return;
    ticking = true;
    try {
      const nowMs = options.clock();
      const starts = [...pending.entries()].filter(([, entry]) => nowMs >= entry.dueAtMs);
      const drives = [...open.entries()].filter(([, entry]) =>
        entry.dueAtMs === null
          ? nowMs - entry.lastChangeMs >= options.graceMs
          : nowMs >= entry.dueAtMs,
      );
      const work = [
        ...starts.map(
          ([key, entry]) =>
            () =>
              attempt(key, async () => {
                const state = await options.engine.start(entry.sagaName, entry.sagaId, entry.input);
                // Done without a saga (a top-up credited in the payment's commit, a payment paid
                // by its deadline): no start to see.
                if (state.status === 'none') pending.delete(key);
              }),
        ),
        ...drives.map(([key, entry]) => () => {
          // Not driven again before another grace period unless the log shows progress.
          open.set(key, { ...entry, lastChangeMs: nowMs, dueAtMs: null });
          return attempt(key, () => options.engine.drive(entry.sagaName, entry.sagaId));
        }),
      ].slice(0, options.sagasPerTickMax);
      await Promise.all(work.map((run) => run()));
      const checkpoint = safeCheckpoint();
      // Each save is a commit (an fsync): none while the checkpoint stands still.
      if (checkpoint !== null && checkpoint !== savedCheckpoint) {
        // A failed save (a full disk) leaves the older checkpoint: the next tick saves again.
        const saved = await options.checkpoints.save(SWEEPER_CHECKPOINT, checkpoint).then(
          () => true,
          () => false,
        );
        if (saved) savedCheckpoint = checkpoint;
      }
    } finally {
      ticking = false;
    }
  };

  return {
    async start(): Promise<void> {
      const afterPosition = await options.checkpoints.load(SWEEPER_CHECKPOINT);
      lastPosition = afterPosition;
      savedCheckpoint = afterPosition;
      const source = options.store.subscribeToAll({ afterPosition });
      subscription = source;
      following = (async () => {
        for await (const event of source) track(event);
      })();
      timer = setInterval(() => void tick(), options.tickMs);
      timer.unref();
    },
    tick,
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      await subscription?.close();
      await following;
      while (ticking) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
};
