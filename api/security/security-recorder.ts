import type { JsonObject } from '../../domain/ports/event-store.port';
import type {
  SecurityEvent,
  SecurityEventKind,
  SecurityEventStore,
} from '../../domain/ports/security-event.port';

/** Kinds that come in floods (an attacker controls their rate): identical ones are coalesced. */
const COALESCED_KINDS: ReadonlySet<SecurityEventKind> = new Set([
  'authentication_failed',
  'rate_limited',
  'auth_throttled',
  'signature_refused',
]);

export type SecurityEventInput = Omit<SecurityEvent, 'occurredAt' | 'count'>;

export type SecurityRecorder = {
  /**
   * Queues an event for the next flush (at most flushIntervalMs later); never blocks, never
   * throws. Identical flood events (same kind, client, IP and detail) in one window become one
   * row with a count; past pendingCountMax distinct events the rest are counted and dropped.
   */
  record(event: SecurityEventInput): void;
  /** Writes what is queued now; throws the store's error (a route that must not answer before
   *  its event is stored awaits this). */
  flush(): Promise<void>;
  /** Stops the timer after a last flush. */
  stop(): Promise<void>;
};

export const createSecurityRecorder = (options: {
  store: SecurityEventStore;
  nowMs: () => number;
  flushIntervalMs: number;
  pendingCountMax: number;
  /** A failed background flush or dropped events: for the log, never thrown. */
  onProblem: (
    name: 'security_events_flush_failed' | 'security_events_dropped',
    detail: JsonObject,
  ) => void;
}): SecurityRecorder => {
  let pending = new Map<string, SecurityEvent>();
  let sequence = 0;
  let droppedCount = 0;
  const flush = async (): Promise<void> => {
    if (droppedCount > 0) {
      options.onProblem('security_events_dropped', { count: droppedCount });
      droppedCount = 0;
    }
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending = new Map();
    await options.store.append(batch);
  };
  const timer = setInterval(() => {
    flush().catch((error: unknown) =>
      options.onProblem('security_events_flush_failed', { error: String(error) }),
    );
  }, options.flushIntervalMs);
  timer.unref();
  return {
    record: (event) => {
      sequence += 1;
      const key = COALESCED_KINDS.has(event.kind)
        ? JSON.stringify([event.kind, event.clientId, event.ip, event.detail])
        : `#${sequence}`;
      const queued = pending.get(key);
      if (queued !== undefined) {
        queued.count += 1;
        return;
      }
      if (pending.size >= options.pendingCountMax) {
        droppedCount += 1;
        return;
      }
      pending.set(key, { ...event, occurredAt: new Date(options.nowMs()).toISOString(), count: 1 });
    },
    flush,
    stop: async () => {
      clearInterval(timer);
      await flush();
    },
  };
};
