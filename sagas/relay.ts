import type { BusHeaders, MessageBus } from '../domain/ports/bus.port';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.port';
import type {
  EventStore,
  EventSubscription,
  JsonObject,
  RecordedEvent,
} from '../domain/ports/event-store.port';
import { isCheckpointStream } from '../domain/audit/checkpoint-events';
import { categoryOf } from './saga-definition';

/**
 * The event log is the outbox: the relay follows the global log from its checkpoint and publishes
 * every event to `ledger.events.<category>.<type>` with the event id as message id. The checkpoint
 * only ever names an event the bus has stored, and moves at most every checkpointIntervalMs (and at
 * stop): a crash re-publishes what was published since, which the bus's duplicate window drops
 * (Nats-Msg-Id). A failed publish is retried from the same event after a pause; the relay never
 * skips one, except the signed checkpoints' copies in the log (no consumer needs them, and they
 * can outgrow a message). An event's `traceparent` (metadata) goes along as a header, so the saga
 * that consumes it continues the trace of the command that wrote it.
 */
type RelayOptions = {
  store: EventStore;
  bus: MessageBus;
  checkpoints: CheckpointStore;
  /** Events published concurrently before the checkpoint moves. */
  windowEventCountMax: number;
  /** Least time between two checkpoint saves (each is an fsync): bounds what a crash re-publishes. */
  checkpointIntervalMs: number;
  retryPauseMs: number;
  clock: () => number;
  onWarning: (what: string, fields: Record<string, unknown>) => void;
};

export const RELAY_CHECKPOINT = 'relay';
export const EVENT_SUBJECT_PREFIX = 'ledger.events';

/** Subjects are dot-separated tokens: anything else in a name becomes an underscore. */
const token = (text: string): string => text.replace(/[^A-Za-z0-9_-]/g, '_') || '_';

const subjectOf = (event: Pick<RecordedEvent, 'stream' | 'type'>): string =>
  `${EVENT_SUBJECT_PREFIX}.${token(categoryOf(event.stream))}.${token(event.type)}`;

const payloadOf = (event: RecordedEvent): JsonObject => ({
  id: event.id,
  stream: event.stream,
  revision: event.revision,
  position: event.position.toString(),
  type: event.type,
  data: event.data,
  schemaVersion: event.metadata.schemaVersion,
  occurredAt: event.metadata.occurredAt,
  correlationId: event.metadata.correlationId,
});

/** The writing command's trace context travels as the W3C `traceparent` header. */
const headersOf = (event: RecordedEvent): BusHeaders =>
  event.metadata.traceparent === undefined ? {} : { traceparent: event.metadata.traceparent };

export const createRelay = (options: RelayOptions) => {
  let subscription: EventSubscription | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let published: bigint | null = null;
  let saved: bigint | null = null;
  let savedAtMs = Number.NEGATIVE_INFINITY;
  let saving: Promise<void> = Promise.resolve();
  let saveTimer: NodeJS.Timeout | null = null;

  /** Saves the last published position; saves run one after another, so it never moves back. */
  const saveCheckpoint = (): Promise<void> => {
    saving = saving
      .then(async () => {
        if (published === null || published === saved) return;
        const position = published;
        await options.checkpoints.save(RELAY_CHECKPOINT, position);
        saved = position;
        savedAtMs = options.clock();
      })
      .catch(() => undefined); // A failed save (a full disk): the next one saves again.
    return saving;
  };

  /** One save per checkpointIntervalMs at most, and one after the last publish of a burst. */
  const scheduleSave = (): void => {
    if (saveTimer !== null) return;
    const delayMs = Math.max(0, savedAtMs + options.checkpointIntervalMs - options.clock());
    saveTimer = setTimeout(() => {
      saveTimer = null;
      saveCheckpoint().catch((error: unknown) => {
        options.onWarning('relay_checkpoint_failed', { error: String(error) });
        scheduleSave();
      });
    }, delayMs);
  };

  const publishWindow = async (window: readonly RecordedEvent[]): Promise<void> => {
    for (;;) {
      try {
        await Promise.all(
          window
            .filter((event) => !isCheckpointStream(event.stream))
            .map((event) =>
              options.bus.publish(subjectOf(event), event.id, payloadOf(event), headersOf(event)),
            ),
        );
        published = window[window.length - 1]?.position ?? published;
        scheduleSave();
        return;
      } catch (error: unknown) {
        if (stopped) return;
        options.onWarning('relay_publish_failed', {
          error: String(error),
          eventCount: window.length,
        });
        await new Promise((resolve) => setTimeout(resolve, options.retryPauseMs));
      }
    }
  };

  /**
   * A pump reads the log into a bounded buffer while the publisher sends the buffer in windows:
   * a burst of appends goes out as concurrent publishes, not one round trip per event.
   */
  const follow = async (source: EventSubscription): Promise<void> => {
    const buffer: RecordedEvent[] = [];
    let signal: (() => void) | null = null;
    let ended = false;
    const notify = (): void => {
      signal?.();
      signal = null;
    };
    const waitSignal = (): Promise<void> => new Promise((resolve) => (signal = resolve));
    const pump = (async () => {
      for await (const event of source) {
        buffer.push(event);
        notify();
        while (buffer.length >= options.windowEventCountMax * 2 && !stopped) await waitSignal();
      }
      ended = true;
      notify();
    })();
    while (!(ended && buffer.length === 0) && !stopped) {
      if (buffer.length === 0) {
        await waitSignal();
        continue;
      }
      await publishWindow(buffer.splice(0, options.windowEventCountMax));
      notify();
    }
    notify();
    await pump;
  };

  return {
    /** The last position the bus has stored (the checkpoint's, before the first publish). */
    position: (): bigint | null => published ?? saved,
    async start(): Promise<void> {
      const afterPosition = await options.checkpoints.load(RELAY_CHECKPOINT);
      saved = afterPosition;
      const source = options.store.subscribeToAll({ afterPosition });
      subscription = source;
      running = follow(source);
    },
    async stop(): Promise<void> {
      stopped = true;
      await subscription?.close();
      await running;
      if (saveTimer !== null) clearTimeout(saveTimer);
      saveTimer = null;
      await saveCheckpoint();
    },
  };
};
