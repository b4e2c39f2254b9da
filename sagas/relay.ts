import type { MessageBus } from '../domain/ports/bus.port';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.port';
import type {
  EventStore,
  EventSubscription,
  JsonObject,
  RecordedEvent,
} from '../domain/ports/event-store.port';
import { categoryOf } from './saga-definition';

/**
 * The event log is the outbox: the relay follows the global log from its checkpoint and publishes
 * every event to `ledger.events.<category>.<type>` with the event id as message id. It saves the
 * checkpoint only after the bus stored a whole window, so a crash re-publishes at most one window,
 * which the bus's duplicate window drops (Nats-Msg-Id). A failed publish is retried from the same
 * event after a pause; the relay never skips one.
 */
export type RelayOptions = {
  store: EventStore;
  bus: MessageBus;
  checkpoints: CheckpointStore;
  /** Events published concurrently before the checkpoint moves. */
  windowEventCountMax: number;
  retryPauseMs: number;
  onWarning: (what: string, fields: Record<string, unknown>) => void;
};

export const RELAY_CHECKPOINT = 'relay';
export const EVENT_SUBJECT_PREFIX = 'ledger.events';

/** Subjects are dot-separated tokens: anything else in a name becomes an underscore. */
const token = (text: string): string => text.replace(/[^A-Za-z0-9_-]/g, '_') || '_';

export const subjectOf = (event: Pick<RecordedEvent, 'stream' | 'type'>): string =>
  `${EVENT_SUBJECT_PREFIX}.${token(categoryOf(event.stream))}.${token(event.type)}`;

export const payloadOf = (event: RecordedEvent): JsonObject => ({
  id: event.id,
  stream: event.stream,
  revision: event.revision,
  position: event.position.toString(),
  type: event.type,
  data: event.data,
  occurredAt: event.metadata.occurredAt,
  correlationId: event.metadata.correlationId,
});

export const createRelay = (options: RelayOptions) => {
  let subscription: EventSubscription | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const publishWindow = async (window: readonly RecordedEvent[]): Promise<void> => {
    for (;;) {
      try {
        await Promise.all(
          window.map((event) => options.bus.publish(subjectOf(event), event.id, payloadOf(event))),
        );
        const last = window[window.length - 1];
        if (last !== undefined) await options.checkpoints.save(RELAY_CHECKPOINT, last.position);
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
    async start(): Promise<void> {
      const afterPosition = await options.checkpoints.load(RELAY_CHECKPOINT);
      const source = options.store.subscribeToAll({ afterPosition });
      subscription = source;
      running = follow(source);
    },
    async stop(): Promise<void> {
      stopped = true;
      await subscription?.close();
      await running;
    },
  };
};

export type Relay = ReturnType<typeof createRelay>;
