import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite.event-store';
import { streamName } from '../domain/aggregate';
import { type ChainTail, EMPTY_CHAIN, sealEvents, type UnhashedEvent } from '../domain/event-chain';
import type { EventStore, ExpectedRevision } from '../domain/ports/event-store.port';
import { onInterrupt } from './cleanup';
import { formatInteger, type Row } from './report';

const APPENDER_COUNT = 64;
const DURATION_MS = 5_000;

/** An event shaped like the service's own (an account leg), so hashing and JSON cost the same. */
const debitEvent = (accountId: string): UnhashedEvent => ({
  id: uuidv7(),
  type: 'AccountDebited',
  data: { accountId, transferId: uuidv7(), amountMinor: 1234, currency: 'EUR' },
  metadata: {
    correlationId: uuidv7(),
    causationId: null,
    actor: { clientId: 'bench', role: 'admin', ip: '127.0.0.1' },
    idempotencyKey: uuidv7(),
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

const expectedAfter = (tail: ChainTail): ExpectedRevision =>
  tail.nextRevision === 0
    ? { kind: 'no_stream' }
    : { kind: 'exact', revision: tail.nextRevision - 1 };

const percentile = (sorted: readonly number[], fraction: number): number | null => {
  const index = Math.min(sorted.length - 1, Math.floor(sorted.length * fraction));
  return sorted[index] ?? null;
};

/** One appender: its own stream, one append at a time, each at the exact expected revision. */
const appendUntil = async (
  store: EventStore,
  deadlineMs: number,
  eventsPerAppend: number,
  latenciesMs: number[],
): Promise<number> => {
  const accountId = uuidv7();
  const stream = streamName('account', accountId);
  let tail = EMPTY_CHAIN;
  let eventCount = 0;
  while (performance.now() < deadlineMs) {
    const unsealed = Array.from({ length: eventsPerAppend }, () => debitEvent(accountId));
    // Sealing is part of the timed loop: the service pays it on every append too.
    const sealed = sealEvents(stream, tail, unsealed);
    const startedMs = performance.now();
    const result = await store.append(stream, sealed.events, expectedAfter(tail));
    latenciesMs.push(performance.now() - startedMs);
    if (!result.ok) throw new Error(`append bench: unexpected conflict on ${stream}`);
    tail = sealed.tail;
    eventCount += eventsPerAppend;
  }
  return eventCount;
};

/** Raw appends through the EventStore port on a fresh SQLite file (WAL, synchronous=FULL). */
export const appendScenario = async (eventsPerAppend: number): Promise<Row> => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-append-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const unregister = onInterrupt(removeDir);
  const store = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
  try {
    const latenciesMs: number[] = [];
    const startedMs = performance.now();
    const deadlineMs = startedMs + DURATION_MS;
    const appenders = Array.from({ length: APPENDER_COUNT }, () =>
      appendUntil(store, deadlineMs, eventsPerAppend, latenciesMs),
    );
    const eventCount = (await Promise.all(appenders)).reduce((sum, count) => sum + count, 0);
    const elapsedS = (performance.now() - startedMs) / 1000;
    latenciesMs.sort((left, right) => left - right);
    const appendsPerS = latenciesMs.length / elapsedS;
    return {
      scenario: `store, ${eventsPerAppend}-event appends, ${APPENDER_COUNT} appenders`,
      requests: latenciesMs.length,
      throughputPerS: eventCount / elapsedS,
      unit: 'events/s',
      p50Ms: percentile(latenciesMs, 0.5),
      p99Ms: percentile(latenciesMs, 0.99),
      errors: 0,
      non2xx: 0,
      target: '',
      met: null,
      note: `${formatInteger(appendsPerS)} appends/s, in-process, no HTTP`,
    };
  } finally {
    await store.close();
    unregister();
    removeDir();
  }
};
