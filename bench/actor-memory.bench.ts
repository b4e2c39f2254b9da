import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite.event-store';
import { accountAggregate } from '../domain/account/account.decider';
import { createActorRuntime } from '../domain/actors/actor-runtime';
import { benchCommandContext } from './bench-context';
import { onInterrupt } from './cleanup';
import { formatInteger, type Row } from './report';

const ACCOUNT_COUNT = 1_000_000;
const ACTOR_COUNT_MAX = 100_000;
const COMMANDS_IN_FLIGHT = 4_096;
const SAMPLE_EVERY_ACCOUNTS = 100_000;

const context = benchCommandContext('bench-actor-memory', '2026-11-22T00:00:00.000Z');

/** Node's own collector, reachable without starting the bench with --expose-gc. */
const collectGarbage = (): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
};

const heapUsedMiB = (gc: () => void): number => {
  gc();
  return process.memoryUsage().heapUsed / (1024 * 1024);
};

/**
 * The memory bound: ACCOUNT_COUNT distinct accounts opened, each by its own actor,
 * through the runtime on the durable SQLite store with the service's default ACTOR_COUNT_MAX.
 * Heap (after a full collection) is sampled every SAMPLE_EVERY_ACCOUNTS accounts; flat means the
 * last sample is close to the one taken when the LRU first filled.
 */
export const actorMemoryScenario = async (): Promise<Row> => {
  const gc = collectGarbage();
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-actors-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const unregister = onInterrupt(removeDir);
  const store = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const runtime = createActorRuntime(store, {
    mailboxDepthMax: 16,
    batchCommandCountMax: 512,
    conflictRetryCountMax: 5,
    actorCountMax: ACTOR_COUNT_MAX,
    idleMsMax: 300_000,
    streamLoadEventCountMax: 1_000,
  });
  try {
    const heapSamplesMiB: number[] = [heapUsedMiB(gc)];
    let liveActorCountMax = 0;
    const startedMs = performance.now();
    for (let first = 0; first < ACCOUNT_COUNT; first += COMMANDS_IN_FLIGHT) {
      const count = Math.min(COMMANDS_IN_FLIGHT, ACCOUNT_COUNT - first);
      const outcomes = await Promise.all(
        Array.from({ length: count }, (_, offset) => {
          const accountId = `a${first + offset}`;
          const data = {
            accountId,
            ownerClientId: 'bench',
            currency: 'EUR',
            constraint: 'none' as const,
            metadata: {},
            now: context.now,
          };
          return runtime.execute(
            accountAggregate,
            accountId,
            { type: 'OpenAccount', data },
            context,
          );
        }),
      );
      if (outcomes.some((outcome) => !outcome.ok)) throw new Error('actor bench: open refused');
      liveActorCountMax = Math.max(liveActorCountMax, runtime.liveActorCount());
      const touched = first + count;
      if (
        touched % SAMPLE_EVERY_ACCOUNTS < COMMANDS_IN_FLIGHT &&
        touched >= SAMPLE_EVERY_ACCOUNTS
      ) {
        heapSamplesMiB.push(heapUsedMiB(gc));
      }
    }
    const elapsedS = (performance.now() - startedMs) / 1000;
    const filled = heapSamplesMiB[1] ?? Number.NaN;
    const last = heapSamplesMiB[heapSamplesMiB.length - 1] ?? Number.NaN;
    const samples = heapSamplesMiB.map((mib) => formatInteger(mib)).join(', ');
    return {
      scenario: `${formatInteger(ACCOUNT_COUNT)} distinct accounts opened, ACTOR_COUNT_MAX ${formatInteger(ACTOR_COUNT_MAX)}`,
      requests: ACCOUNT_COUNT,
      throughputPerS: ACCOUNT_COUNT / elapsedS,
      unit: 'accounts/s',
      p50Ms: null,
      p99Ms: null,
      errors: 0,
      non2xx: 0,
      target: 'memory flat',
      met: liveActorCountMax <= ACTOR_COUNT_MAX && last <= filled * 1.25,
      note:
        `heap MiB after GC, start then every ${formatInteger(SAMPLE_EVERY_ACCOUNTS)}: ${samples}; ` +
        `live actors max ${formatInteger(liveActorCountMax)}`,
    };
  } finally {
    await runtime.close();
    await store.close();
    unregister();
    removeDir();
  }
};
