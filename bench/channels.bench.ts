import { createEventStoreReplayGuard } from '../adapters/channels/event-store.replay-guard';
import { generateKeyPairSync } from 'node:crypto';
import { benchCommandContext } from './bench-context';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { createSqlitePaymentTicketStore } from '../adapters/channels/sqlite.channel-stores';
import {
  createSandboxChannelVerifier,
  signSandboxCallback,
} from '../adapters/channels/sandbox.channel';
import { createWechatV2Verifier } from '../adapters/channels/wechat/wechat-v2.verifier';
import { buildFlatXml, signWechatV2 } from '../adapters/channels/wechat/wechat-v2.xml';
import { encryptResource, signSha256Rsa } from '../adapters/channels/wechat/wechat-v3.crypto';
import { createWechatV3Verifier } from '../adapters/channels/wechat/wechat-v3.verifier';
import { createSqliteClientStore } from '../adapters/clients/sqlite.client-store';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite.event-store';
import { createSqliteIdempotencyStore } from '../adapters/idempotency/sqlite.idempotency-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { walSyncOf } from '../adapters/sqlite/wal-sync';
import { createApp } from '../api/app';
import { channelCallbackRoutes } from '../api/routes/channel-callbacks.route';
import { startApiGovernance } from '../bin/api-governance';
import { createLogger } from '../bin/logger';
import { createActorRuntime } from '../domain/actors/actor-runtime';
import { paymentAggregate } from '../domain/payment/payment.decider';
import { channelOrderNoOf } from '../domain/payment/payment-id';
import { createLedger } from '../domain/ledger/ledger';
import { createTrafficWriter } from '../domain/traffic/traffic-writer';
import type { LoadReply, LoadRequest } from './callback-load';
import { forkChild } from './forked-child';
import type { Delivery } from './http-wire';
import { formatInteger, type Row } from './report';
import { type ProcessCpu, processCpu } from './process-cpu';
import { trailSecurity } from '../api/security-port';

/**
 * Verified and applied channel callbacks per second (target ≥ 2,000/s each): WeChat v2 (XML,
 * HMAC-SHA256) and v3 (RSA-2048 verify + AES-256-GCM), and the sandbox's (≥ 500/s), posted over
 * loopback HTTP to the callback route on the embedded SQLite stores, each callback paying its own
 * payment. Bounded by count.
 */
const CALLBACK_COUNT = 4000;
/** Sent before the clock starts, so the JIT and connection pool are warm. */
const WARM_UP_COUNT = 400;
const CONCURRENCY = 64;
const WECHAT_TARGET_PER_S = 2000;
/** Sandbox: the rate of the callback → credit line (500/s) must be affordable with room to spare. */
const SANDBOX_TARGET_PER_S = 500;
const V2 = {
  appId: 'wxbench000000001',
  mchId: '1900000109',
  apiKey: 'b'.repeat(32),
  signType: 'HMAC-SHA256' as const,
};
const V3 = { mchId: '1900000109', apiV3Key: 'c'.repeat(32), serial: 'BENCH-SERIAL' };
const SANDBOX_SECRET = 's'.repeat(32);
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const quietLogger = () =>
  createLogger('error', {
    stream: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
  });

const v2Delivery = (paymentId: string, index: number): Delivery => {
  const params = {
    return_code: 'SUCCESS',
    result_code: 'SUCCESS',
    appid: V2.appId,
    mch_id: V2.mchId,
    nonce_str: `n${index}`,
    sign_type: V2.signType,
    out_trade_no: channelOrderNoOf(paymentId),
    transaction_id: `tx-${index}`,
    total_fee: '100',
    fee_type: 'CNY',
  };
  return {
    body: buildFlatXml({ ...params, sign: signWechatV2(params, V2.apiKey, V2.signType) }),
    headers: { 'content-type': 'text/xml' },
  };
};

const sandboxDelivery = (paymentId: string, index: number): Delivery => {
  const body = JSON.stringify({
    event: 'payment.succeeded',
    paymentId,
    channelTransactionId: `tx-${index}`,
    amountMinor: 100,
    currency: 'CNY',
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'sandbox-signature': signSandboxCallback(SANDBOX_SECRET, Buffer.from(body), Date.now()),
    },
  };
};

const v3Delivery = (paymentId: string, index: number): Delivery => {
  const resource = {
    mchid: V3.mchId,
    out_trade_no: channelOrderNoOf(paymentId),
    transaction_id: `tx-${index}`,
    trade_state: 'SUCCESS',
    amount: { total: 100, currency: 'CNY' },
  };
  const body = JSON.stringify({
    id: `EV-${index}`,
    event_type: 'TRANSACTION.SUCCESS',
    resource_type: 'encrypt-resource',
    resource: encryptResource(JSON.stringify(resource), V3.apiV3Key, 'bench-nonce1', 'transaction'),
  });
  const timestamp = Math.floor(Date.now() / 1000).toString();
  const nonce = `nonce-${index}`;
  const signature = signSha256Rsa(platform.privateKey, `${timestamp}\n${nonce}\n${body}\n`);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'wechatpay-timestamp': timestamp,
      'wechatpay-nonce': nonce,
      'wechatpay-signature': signature,
      'wechatpay-serial': V3.serial,
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    },
  };
};

/**
 * The child process that posts the callbacks (bench/callback-load.ts): `prepare` hands it the
 * built and signed deliveries and lets it open its connections, before any clock starts; `run`
 * posts them and answers with the latencies, failures and its own CPU time.
 */
const startLoadGenerator = async () => {
  const { ask, stop } = await forkChild<LoadRequest, LoadReply>('callback-load.js');
  return {
    prepare: async (url: string, deliveries: readonly Delivery[]) => {
      const reply = await ask({ kind: 'prepare', url, deliveries, concurrency: CONCURRENCY });
      if (reply.kind !== 'ready') throw new Error('callback load did not get ready');
    },
    run: async () => {
      const reply = await ask({ kind: 'run' });
      if (reply.kind !== 'done') throw new Error('callback load did not finish');
      return reply;
    },
    stop,
  };
};

/** The main thread's share of the service's CPU per callback, or '?' without /proc. */
const mainThreadUsPer = (before: ProcessCpu | null, after: ProcessCpu | null, count: number) =>
  before === null || after === null
    ? '?'
    : formatInteger(((after.mainThreadMs - before.mainThreadMs) * 1000) / count);

type BenchOptions = { cpuProfileDir: string | null };

/**
 * Runs `load` under a V8 CPU profile written to `<dir>/<name>.cpuprofile` (main thread only), so
 * the profile covers the measured window and not the setup; without a directory, just runs it.
 */
const profiled = async <T>(
  dir: string | null,
  name: string,
  load: () => Promise<T>,
): Promise<T> => {
  if (dir === null) return load();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await load();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
};

type Scenario = {
  name: string;
  /** The callback route's channel segment. */
  path: string;
  /** The payments' channel. */
  channel: 'sandbox' | 'wechat';
  deliveryOf: (paymentId: string, index: number) => Delivery;
  targetPerS: number;
};

const scenario = async (
  { name, path, channel, deliveryOf, targetPerS }: Scenario,
  options: BenchOptions,
): Promise<Row> => {
  const dir = mkdtempSync(join(tmpdir(), 'channels-bench-'));
  const counted = { commits: 0, syncs: 0 };
  const store = createSqliteEventStore({
    path: join(dir, 'events.sqlite'),
    onCommit: () => void (counted.commits += 1),
    onSync: () => void (counted.syncs += 1),
  });
  const database = openSqliteDatabase(join(dir, 'service.sqlite'));
  const serviceWal = walSyncOf(database);
  const runtime = createActorRuntime(store, {
    mailboxDepthMax: 10_000,
    batchCommandCountMax: 512,
    conflictRetryCountMax: 5,
    actorCountMax: 100_000,
    idleMsMax: 300_000,
    streamLoadEventCountMax: 1000,
  });
  const ledger = createLedger({
    store,
    snapshots: null,
    limits: {
      mailboxCommandCountMax: 65_536,
      batchCommandCountMax: 16_384,
      conflictRetryCountMax: 5,
      actorCountMax: 100_000,
      idleMsMax: 300_000,
      streamLoadEventCountMax: 1000,
    },
    onEvent: () => undefined,
  });
  const verifiers = [
    createSandboxChannelVerifier({ secrets: [SANDBOX_SECRET] }),
    createWechatV2Verifier(V2),
    createWechatV3Verifier({
      mchId: V3.mchId,
      apiV3Key: V3.apiV3Key,
      platformKeys: new Map([[V3.serial, platform.publicKey]]),
    }),
  ];
  const traffic = createTrafficWriter({
    store,
    snapshots: null,
    limits: {
      mailboxCommandCountMax: 16_384,
      batchCommandCountMax: 512,
      conflictRetryCountMax: 5,
      streamLoadEventCountMax: 1000,
    },
    onEvent: () => undefined,
  });
  const services = {
    runtime,
    ledger,
    traffic,
    channelVerifiers: verifiers,
    paymentTtlMs: 15 * 60 * 1000,
    nowMs: Date.now,
  };
  const channels = {
    gateways: new Map(),
    replayGuard: createEventStoreReplayGuard(store),
    tickets: createSqlitePaymentTicketStore(database),
    eventStore: store,
  };
  const governance = startApiGovernance({
    database,
    dataDir: dir,
    oauth: {
      issuer: 'http://bench',
      audience: 'ledger-api',
      tokenTtlS: 900,
      keyOverlapS: 3600,
      signingKeyFile: null,
      securityEventRetentionDays: 365,
    },
    logger: quietLogger(),
    nowMs: Date.now,
  });
  const app = createApp({
    logger: quietLogger(),
    clientStore: createSqliteClientStore(database),
    grantStore: governance.grantStore,
    tokens: governance.tokens,
    securityEventStore: governance.securityEvents.store,
    security: trailSecurity(governance.securityEvents.recorder),
    idempotencyStore: createSqliteIdempotencyStore(database),
    readIdempotencyRecord: (scope, key) => store.readIdempotencyRecord(scope, key),
    bootId: 'bench',
    limits: { bodyBytesMax: 1024 * 1024, trafficBodyBytesMax: 1024 * 1024 },
    routes: [channelCallbackRoutes(services, channels)],
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/channels/${path}/callbacks`;
  try {
    const now = new Date().toISOString();
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const paymentIds = Array.from(
      { length: CALLBACK_COUNT + WARM_UP_COUNT },
      (_, index) => `00000000-0000-4000-8000-${index.toString().padStart(12, '0')}`,
    );
    const context = benchCommandContext('bench', now);
    await Promise.all(
      paymentIds.map((paymentId) =>
        runtime.execute(
          paymentAggregate,
          paymentId,
          {
            type: 'CreatePayment',
            data: {
              paymentId,
              merchantId: 'm',
              merchantOrderNo: paymentId,
              amountMinor: 100,
              currency: 'CNY',
              channel,
              subject: 's',
              creditAccountId: 'a',
              expiresAt,
              now,
            },
          },
          context,
        ),
      ),
    );
    const all = paymentIds.map(deliveryOf);
    // The load generator runs in its own process: process.cpuUsage() below is the service's.
    const load = await startLoadGenerator();
    await load.prepare(url, all.slice(0, WARM_UP_COUNT));
    await load.run();
    await load.prepare(url, all.slice(WARM_UP_COUNT));
    const loadAverage = loadavg()[0] ?? 0;
    const cpuBefore = process.cpuUsage();
    const countedBefore = { ...counted, serviceSyncs: serviceWal.syncCount() };
    const threadsBefore = processCpu(process.pid);
    const startedMs = performance.now();
    const reply = await profiled(options.cpuProfileDir, `channels-${path}`, load.run);
    const elapsedS = (performance.now() - startedMs) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const mainThreadUs = mainThreadUsPer(threadsBefore, processCpu(process.pid), CALLBACK_COUNT);
    const perCallback = (count: number) => (count / CALLBACK_COUNT).toFixed(3);
    const work = `event-store commits ${perCallback(counted.commits - countedBefore.commits)}, WAL fdatasyncs ${perCallback(counted.syncs - countedBefore.syncs)} (events.sqlite) and ${perCallback(serviceWal.syncCount() - countedBefore.serviceSyncs)} (service.sqlite) per callback`;
    load.stop();
    const { latenciesMs, failures, cpuUs: loadCpuUs } = reply;
    const cpuPerCallbackUs = Math.round((cpu.user + cpu.system) / CALLBACK_COUNT);
    const loadCpuPerCallbackUs = Math.round(loadCpuUs / CALLBACK_COUNT);
    const throughputPerS = CALLBACK_COUNT / elapsedS;
    // Every callback was verified and applied: each payment it names is now paid.
    const states = await Promise.all(
      paymentIds.map((paymentId) => runtime.read(paymentAggregate, paymentId)),
    );
    const unpaid = states.filter(({ state }) => state.status !== 'succeeded').length;
    return {
      scenario: name,
      requests: CALLBACK_COUNT,
      throughputPerS,
      unit: 'callbacks/s',
      p50Ms: latenciesMs[Math.floor(latenciesMs.length * 0.5)] ?? null,
      p99Ms: latenciesMs[Math.floor(latenciesMs.length * 0.99)] ?? null,
      errors: 0,
      non2xx: failures,
      target: `≥ ${formatInteger(targetPerS)} callbacks/s`,
      met: failures === 0 && unpaid === 0 && throughputPerS >= targetPerS,
      note: `${CONCURRENCY} concurrent, each pays its own payment (${formatInteger(unpaid)} left unpaid); service CPU ${formatInteger(cpuPerCallbackUs)} µs/callback over every service thread (load generator in its own process: ${formatInteger(loadCpuPerCallbackUs)} µs/callback more); main thread ${mainThreadUs} µs/callback; ${work}; load average ${loadAverage.toFixed(2)}`,
    };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await runtime.close();
    await store.close();
    database.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * The channel scenarios for bench/run.ts. With cpuProfileDir, each writes a CPU profile of its
 * measured window (channels-<route>.cpuprofile). The sandbox line is the first stage of callback
 * → credit (answered = payment durable), as fast as answered rather than at 500/s; it runs last,
 * so the WeChat lines keep the place (and the JIT warm-up) they had before it was added.
 */
export const channelBenchScenarios = async (options: BenchOptions): Promise<Row[]> => [
  await scenario(
    {
      name: 'WeChat v2 callbacks (HMAC-SHA256, XML)',
      path: 'wechat',
      channel: 'wechat',
      deliveryOf: v2Delivery,
      targetPerS: WECHAT_TARGET_PER_S,
    },
    options,
  ),
  await scenario(
    {
      name: 'WeChat v3 callbacks (RSA verify + AES-GCM)',
      path: 'wechat-v3',
      channel: 'wechat',
      deliveryOf: v3Delivery,
      targetPerS: WECHAT_TARGET_PER_S,
    },
    options,
  ),
  await scenario(
    {
      name: 'Sandbox callbacks (timestamped HMAC, JSON)',
      path: 'sandbox',
      channel: 'sandbox',
      deliveryOf: sandboxDelivery,
      targetPerS: SANDBOX_TARGET_PER_S,
    },
    options,
  ),
];
