import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite.event-store';
import { createSqliteReadModelStore } from '../adapters/readmodels/sqlite.read-model-store';
import { EMPTY_CHAIN, sealEvents, type ChainTail } from '../domain/event-chain';
import type { EventStore, JsonObject } from '../domain/ports/event-store.port';
import type { DocumentChange } from '../domain/ports/read-model-store.port';
import { createProjectionRunner } from '../projections/projection-runner';
import { checkpointOf, collectionIn, READ_MODELS } from '../projections/read-models';
import { READ_SIDE_LIMITS } from '../bin/config';
import type { Row } from './report';

/**
 * Read-side scenarios: projection throughput on the embedded stores (events applied per second,
 * target ≥ 20,000) and the payments list page p99 with 100,000 payments (target ≤ 10 ms). The
 * lag under load is core scenario (d) (read-side-lag.bench.ts).
 */
const ACCOUNT_COUNT = 1000;
const LEG_EVENT_COUNT = 99_000;
const PAYMENT_COUNT = 100_000;
const QUERY_COUNT = 500;
const metadata = (index: number) => ({
  correlationId: `c-${index}`,
  causationId: null,
  actor: { clientId: 'bench', role: 'admin', ip: null },
  idempotencyKey: null,
  occurredAt: new Date(1_800_000_000_000 + index).toISOString(),
  schemaVersion: 1,
});

const writeLegs = async (store: EventStore): Promise<number> => {
  const tails = new Map<string, ChainTail>();
  const append = async (
    accountIndex: number,
    type: string,
    data: JsonObject,
    index: number,
  ): Promise<void> => {
    const stream = `account-a${accountIndex}`;
    const tail = tails.get(stream) ?? EMPTY_CHAIN;
    const sealed = sealEvents(stream, tail, [
      {
        id: `00000000-0000-7000-8000-${String(index).padStart(12, '0')}`,
        type,
        data,
        metadata: metadata(index),
      },
    ]);
    const expected =
      tail.nextRevision === 0
        ? { kind: 'no_stream' as const }
        : { kind: 'exact' as const, revision: tail.nextRevision - 1 };
    const appended = await store.append(stream, sealed.events, expected);
    if (!appended.ok) throw new Error(`bench append refused on ${stream}`);
    tails.set(stream, sealed.tail);
  };
  const pending: Promise<void>[] = [];
  for (let account = 0; account < ACCOUNT_COUNT; account += 1) {
    pending.push(
      append(
        account,
        'AccountOpened',
        {
          accountId: `a${account}`,
          ownerClientId: 'bench',
          currency: 'EUR',
          constraint: 'none',
          metadata: {},
          openedAt: metadata(account).occurredAt,
        },
        account,
      ),
    );
  }
  await Promise.all(pending.splice(0));
  for (let leg = 0; leg < LEG_EVENT_COUNT; leg += ACCOUNT_COUNT) {
    for (let account = 0; account < ACCOUNT_COUNT; account += 1) {
      const index = ACCOUNT_COUNT + leg + account;
      pending.push(
        append(
          account,
          leg % 2 === 0 ? 'AccountCredited' : 'AccountDebited',
          { transferId: `t${index}`, amountMinor: 1, pending: false },
          index,
        ),
      );
    }
    await Promise.all(pending.splice(0));
  }
  return ACCOUNT_COUNT + LEG_EVENT_COUNT;
};

const projectionThroughput = async (dir: string): Promise<Row> => {
  const eventStore = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const store = createSqliteReadModelStore({ path: join(dir, 'read-models.sqlite') });
  const eventCount = await writeLegs(eventStore);
  for (const projection of READ_MODELS)
    for (const spec of projection.collections)
      await store.ensureCollection({ ...spec, name: collectionIn(spec.name, 1) });
  const runner = createProjectionRunner({
    eventStore,
    store,
    projections: READ_MODELS,
    collectionName: (name) => collectionIn(name, 1),
    checkpointName: checkpointOf(1),
    batchEventCountMax: READ_SIDE_LIMITS.batchEventCountMax,
    cachedDocumentCountMax: READ_SIDE_LIMITS.cachedDocumentCountMax ?? 0,
    onCommitted: () => undefined,
  });
  await runner.load();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const applied = await runner.catchUp({ untilPosition: null, untilTime: null }, () => undefined);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // Wall time suffers from whatever else runs on the machine; CPU time says what the work costs.
  const cpuMs = (cpu.user + cpu.system) / 1000;
  await store.close();
  await eventStore.close();
  const perS = Math.round(applied / seconds);
  return {
    scenario: 'projection catch-up (embedded store)',
    requests: eventCount,
    throughputPerS: perS,
    unit: 'events/s',
    p50Ms: null,
    p99Ms: null,
    errors: applied === eventCount ? 0 : 1,
    non2xx: 0,
    target: '≥ 20,000 events/s',
    met: perS >= 20_000,
    note: `all read models, batches of ${READ_SIDE_LIMITS.batchEventCountMax}; ${Math.round(cpuMs)} ms CPU (${Math.round(applied / (cpuMs / 1000))} events per CPU-second)`,
  };
};

const paymentsPage = async (dir: string): Promise<Row> => {
  const store = createSqliteReadModelStore({ path: join(dir, 'payments.sqlite') });
  const collection = collectionIn('payments', 1);
  const spec = READ_MODELS.flatMap((projection) => projection.collections).find(
    (candidate) => candidate.name === 'payments',
  );
  await store.ensureCollection({ name: collection, indexes: spec?.indexes ?? [] });
  const chunk: DocumentChange[] = [];
  for (let index = 0; index < PAYMENT_COUNT; index += 1) {
    const merchantId = `m${index % 50}`;
    const createdAt = new Date(1_800_000_000_000 + index * 1000).toISOString();
    const status = index % 3 === 0 ? 'succeeded' : 'pending';
    chunk.push({
      kind: 'put',
      collection,
      id: `p${index}`,
      document: {
        view: { paymentId: `p${index}`, merchantId, status, createdAt },
        positionKey: String(index).padStart(20, '0'),
        merchantId,
        status,
        channel: 'sandbox',
        createdAt,
      },
    });
    if (chunk.length === 5000) await store.commit(chunk.splice(0), null);
  }
  await store.commit(chunk.splice(0), null);
  const latencies: number[] = [];
  for (let query = 0; query < QUERY_COUNT; query += 1) {
    const started = performance.now();
    await store.find(collection, {
      where: { merchantId: `m${query % 50}`, ...(query % 2 === 0 ? { status: 'pending' } : {}) },
      range: null,
      orderBy: { field: 'createdAt', direction: 'desc' },
      offset: (query % 10) * 20,
      limit: 20,
    });
    latencies.push(performance.now() - started);
  }
  await store.close();
  latencies.sort((left, right) => left - right);
  const at = (quantile: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))] ?? 0;
  const p99Ms = at(0.99);
  return {
    scenario: 'payments list page, 100,000 payments',
    requests: QUERY_COUNT,
    throughputPerS: Math.round(QUERY_COUNT / (latencies.reduce((sum, ms) => sum + ms, 0) / 1000)),
    unit: 'queries/s',
    p50Ms: at(0.5),
    p99Ms,
    errors: 0,
    non2xx: 0,
    target: '≤ 10 ms p99',
    met: p99Ms <= 10,
    note: 'merchant (+ status) filter, newest first, page_size 20, with total_count',
  };
};

/** Runs the in-process scenarios in a temporary directory it removes afterwards. */
export const readSideScenarios = async (): Promise<Row[]> => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-read-side-bench-'));
  try {
    return [await projectionThroughput(dir), await paymentsPage(dir)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
