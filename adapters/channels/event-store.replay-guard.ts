import type { CallbackReplayGuard } from '../../domain/ports/channel-callback.port';
import type { EventStore } from '../../domain/ports/event-store.port';

/** Replay keys live beside the requests' Idempotency-Keys, in a scope of their own per channel. */
const scopeOf = (channel: string): string => `channel-callback:${channel}`;

/**
 * Replay keys as idempotency records of the event store: each is committed in the same append as
 * the events of the callback that delivered it (one durable round per callback, and a crash
 * keeps both or neither). Purged with the other records, after IDEMPOTENCY_RETENTION_HOURS
 * (at least 24 h, far beyond the signature window).
 */
export const createEventStoreReplayGuard = (
  store: Pick<EventStore, 'readIdempotencyRecord'>,
): CallbackReplayGuard => ({
  seen: async (channel, replayKey) =>
    (await store.readIdempotencyRecord(scopeOf(channel), replayKey)) !== null,
  recordOf: (channel, replayKey, nowMs) => ({
    scope: scopeOf(channel),
    key: replayKey,
    // A replay record answers nothing back: it only marks the key as delivered.
    fingerprint: channel,
    response: { status: 200, body: null, headers: {} },
    createdAtMs: nowMs,
  }),
});
