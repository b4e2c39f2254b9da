import type { ActorRuntime, CommandContext } from '../domain/actors/actor-runtime';
import type { EventStore } from '../domain/ports/event-store.port';
import { parseStored, streamName } from '../domain/aggregate';
import {
  riskAttemptsAggregate,
  riskAttemptsIdOf,
  riskAttemptsIdsSince,
  type RecordedAttempt,
} from '../domain/risk/risk-attempts';
import type { RiskGuard } from './risk-guard';

/**
 * Keeps the velocity counters across a restart: every `flushMs` the attempts the guard counted are
 * appended to the journal (domain/risk/risk-attempts.ts), one event per UTC hour touched; at start
 * the attempts of the last `lookBackMs` (the longest window a rule may have) are replayed into the
 * guard before the first purchase is answered. A kill -9 loses at most the last flush interval's
 * attempts; a failed flush keeps them for the next one (bounded by the guard).
 */
type JournalLimits = {
  flushMs: number;
  lookBackMs: number;
  /** Attempts per event, and events read per page on replay. */
  attemptsPerEventMax: number;
};

type RiskJournal = {
  /** Records what the guard counted since the last flush. */
  flush(): Promise<void>;
  stop(): Promise<void>;
};

const journalContext = (nowMs: number): CommandContext => ({
  correlationId: `riskattempts-${nowMs}`,
  causationId: null,
  actor: { clientId: 'system:risk', role: 'system', ip: null },
  idempotencyKey: null,
  now: new Date(nowMs).toISOString(),
  eventIdSeed: null,
});

/** Replays the journal of the last lookBackMs into the guard (oldest first). */
const replayJournal = async (options: {
  store: EventStore;
  guard: RiskGuard;
  nowMs: number;
  limits: JournalLimits;
}): Promise<number> => {
  const sinceMs = options.nowMs - options.limits.lookBackMs;
  let replayed = 0;
  for (const id of riskAttemptsIdsSince(options.nowMs, options.limits.lookBackMs)) {
    const stream = streamName(riskAttemptsAggregate.category, id);
    for (let fromRevision = 0; ;) {
      const page = await options.store.readStream(stream, {
        fromRevision,
        direction: 'forwards',
        eventCountMax: options.limits.attemptsPerEventMax,
      });
      for (const event of page)
        for (const attempt of parseStored(riskAttemptsAggregate, event).data.attempts)
          if (attempt.atMs > sinceMs && attempt.atMs <= options.nowMs) {
            options.guard.replay(attempt);
            replayed += 1;
          }
      if (page.length < options.limits.attemptsPerEventMax) break;
      fromRevision += page.length;
    }
  }
  return replayed;
};

export const startRiskJournal = async (options: {
  store: EventStore;
  runtime: ActorRuntime;
  guard: RiskGuard;
  nowMs: () => number;
  limits: JournalLimits;
  onError: (error: unknown) => void;
}): Promise<RiskJournal & { replayedCount: number }> => {
  const { guard, limits } = options;
  const replayedCount = await replayJournal({ ...options, nowMs: options.nowMs() });
  let retained: RecordedAttempt[] = [];
  let flushing: Promise<void> = Promise.resolve();

  const record = async (attempts: RecordedAttempt[]): Promise<void> => {
    const byHour = new Map<string, RecordedAttempt[]>();
    for (const attempt of attempts) {
      const id = riskAttemptsIdOf(attempt.atMs);
      byHour.set(id, [...(byHour.get(id) ?? []), attempt]);
    }
    for (const [id, ofHour] of byHour)
      for (let start = 0; start < ofHour.length; start += limits.attemptsPerEventMax) {
        const chunk = ofHour.slice(start, start + limits.attemptsPerEventMax);
        await options.runtime.execute(
          riskAttemptsAggregate,
          id,
          { type: 'RecordRiskAttempts', data: { attempts: chunk } },
          journalContext(options.nowMs()),
        );
      }
  };

  const flushOnce = async (): Promise<void> => {
    const attempts = [...retained, ...guard.takeAttempts()];
    retained = [];
    if (attempts.length === 0) return;
    try {
      await record(attempts);
    } catch (error: unknown) {
      // Kept for the next flush; the guard bounds how many it hands over per interval.
      retained = attempts.slice(-limits.attemptsPerEventMax * 10);
      options.onError(error);
    }
  };

  const flush = (): Promise<void> => {
    flushing = flushing.then(flushOnce);
    return flushing;
  };
  const timer = setInterval(() => void flush(), limits.flushMs);
  timer.unref();
  return {
    replayedCount,
    flush,
    stop: async () => {
      clearInterval(timer);
      await flush();
    },
  };
};
