import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandboxChannel } from '../../../adapters/channels/sandbox.gateway';
import {
  createSqliteSandboxStore,
  readSandboxOrders,
} from '../../../adapters/channels/sqlite.sandbox-store';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import { createWriteBatch } from '../../../adapters/sqlite/write-batch';
import { UnavailableError } from '../../../domain/ports/event-store.port';
import type { StatementRow } from '../../../domain/reconciliation/reconciliation';
import { eventuallyTrue } from '../../support/eventually';
import { watchSynchronousLevels } from '../../support/synchronous-levels';

const paymentId = '0191e7a8-0000-7000-8000-000000000001';
const refund = {
  paymentId,
  refundId: 'r1',
  amountMinor: 100,
  currency: 'EUR',
  channelTransactionId: 'tx-1',
};

const sandboxWith = (paidElsewhere: StatementRow | undefined, failRefunds = false) => {
  const delivered: unknown[] = [];
  const channel = createSandboxChannel({
    secret: 'sandbox-secret',
    store: createSqliteSandboxStore(openSqliteDatabase(':memory:')),
    nowMs: () => Date.parse('2026-11-22T10:00:00Z'),
    deliver: (rawBody) => {
      delivered.push(JSON.parse(rawBody.toString()));
      return Promise.resolve(200);
    },
    paidElsewhere: (id) => (id === paymentId ? paidElsewhere : undefined),
  });
  channel.setScript({ failRefunds });
  return { channel, delivered };
};

const paidByCli: StatementRow = {
  paymentId,
  channelTransactionId: 'tx-1',
  status: 'succeeded',
  amountMinor: 1000,
  currency: 'EUR',
  occurredAt: '2026-11-22T09:59:00Z',
};

describe('sandbox channel', () => {
  it('refunds a payment it took through the CLI, with a signed refund callback', async () => {
    const { channel, delivered } = sandboxWith(paidByCli);
    await expect(channel.gateway.refund(refund, new AbortController().signal)).resolves.toEqual({
      ok: true,
      value: { status: 'accepted', channelRefundId: null },
    });
    await channel.flush();
    expect(delivered).toEqual([
      {
        event: 'refund.succeeded',
        paymentId,
        refundId: 'r1',
        channelRefundId: 'sandbox-refund-r1',
      },
    ]);
  });

  it('answers a refund it was scripted to refuse with a refund.failed callback', async () => {
    const { channel, delivered } = sandboxWith(paidByCli, true);
    await channel.gateway.refund(refund, new AbortController().signal);
    await channel.flush();
    expect(delivered).toEqual([
      expect.objectContaining({ event: 'refund.failed', refundId: 'r1' }),
    ]);
  });

  it('refuses to refund a payment it never took', async () => {
    const { channel } = sandboxWith(undefined);
    await expect(channel.gateway.refund(refund, new AbortController().signal)).resolves.toEqual({
      ok: false,
      kind: 'permanent',
      reason: 'order not paid',
    });
  });

  it('reports a payment taken through the CLI as paid when queried', async () => {
    const { channel } = sandboxWith(paidByCli);
    await expect(
      channel.gateway.queryOrder(paymentId, new AbortController().signal),
    ).resolves.toEqual({
      ok: true,
      value: {
        status: 'succeeded',
        channelTransactionId: 'tx-1',
        amountMinor: 1000,
        currency: 'EUR',
        paidAt: '2026-11-22T09:59:00.000Z',
      },
    });
  });
});

describe('sandbox channel books (durable in SQLite)', () => {
  const signal = new AbortController().signal;
  const paidBySignedCallback = {
    kind: 'payment' as const,
    outcome: 'succeeded' as const,
    paymentId,
    channelTransactionId: 'hand-signed-1',
    amountMinor: 1000,
    currency: 'EUR',
  };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-sandbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A sandbox over the database file in `dir`; a new one on the same file is a restart. */
  const open = (options: { nowMs: () => number; status: () => number }) => {
    const database = openSqliteDatabase(join(dir, 'service.sqlite'));
    const delivered: { event: string; refundId?: string }[] = [];
    const channel = createSandboxChannel({
      secret: 'sandbox-secret',
      store: createSqliteSandboxStore(database),
      nowMs: options.nowMs,
      deliver: (rawBody) => {
        const status = options.status();
        if (status === 0) return Promise.reject(new Error('ECONNREFUSED'));
        delivered.push(JSON.parse(rawBody.toString()) as { event: string });
        return Promise.resolve(status);
      },
    });
    return { channel, delivered, database, close: () => database.close() };
  };

  it('writes the outcome a verified callback reports by the next turn, without an fsync of its own, and keeps every other write synchronous', async () => {
    const nowMs = Date.parse('2026-11-22T10:00:00Z');
    const { channel, database, close } = open({ nowMs: () => nowMs, status: () => 200 });
    // The `synchronous` setting each upsert committed under (2 = FULL, 1 = NORMAL).
    const { watched, levels: upsertSync } = watchSynchronousLevels(
      database,
      'INSERT INTO sandbox_orders',
    );
    const store = createSqliteSandboxStore(watched);
    const order = {
      paymentId: 'p-a',
      amountMinor: 1000,
      currency: 'EUR',
      status: 'succeeded' as const,
      transactionId: 'hand-signed-1',
      updatedAt: '2026-11-22T10:00:00.000Z',
    };
    store.observeOutcome(order);
    store.saveOrder({ ...order, paymentId: 'p-b', status: 'pending', transactionId: null });
    expect(upsertSync).toEqual([1, 2]);
    expect(database.pragma('synchronous', { simple: true })).toBe(2);
    channel.observe({ ...paidBySignedCallback, paymentId: 'p-c' }, nowMs);
    // Written at the next turn, before any callback could be answered: another connection sees it.
    const reader = openSqliteDatabase(join(dir, 'service.sqlite'));
    await eventuallyTrue(() => readSandboxOrders(reader).some((row) => row.paymentId === 'p-c'), {
      timeoutMs: 5000,
      what: 'the outcome observed last committed',
    });
    reader.close();
    close();
    const restarted = open({ nowMs: () => nowMs, status: () => 200 });
    for (const id of ['p-a', 'p-c'])
      await expect(restarted.channel.gateway.queryOrder(id, signal)).resolves.toMatchObject({
        value: { status: 'succeeded', channelTransactionId: 'hand-signed-1', amountMinor: 1000 },
      });
    restarted.close();
  });

  it('resends after a restart the callbacks it had not delivered, and still knows its refunds', async () => {
    let nowMs = Date.parse('2026-11-22T10:00:00Z');
    const before = open({ nowMs: () => nowMs, status: () => 0 });
    before.channel.observe(paidBySignedCallback, nowMs);
    await expect(before.channel.gateway.refund(refund, signal)).resolves.toMatchObject({
      ok: true,
    });
    expect(await before.channel.flush()).toEqual({
      deliveredCount: 0,
      failedCount: 1,
      waitingCount: 1,
    });
    before.close(); // The process dies here with its callback undelivered.

    const after = open({ nowMs: () => nowMs, status: () => 200 });
    // Retried with back-off: not before a second has passed.
    expect(await after.channel.flush()).toMatchObject({ deliveredCount: 0, waitingCount: 1 });
    nowMs += 1000;
    expect(await after.channel.flush()).toEqual({
      deliveredCount: 1,
      failedCount: 0,
      waitingCount: 0,
    });
    expect(after.delivered).toEqual([
      {
        event: 'refund.succeeded',
        paymentId,
        refundId: 'r1',
        channelRefundId: 'sandbox-refund-r1',
      },
    ]);
    await expect(
      after.channel.gateway.queryRefund({ ...refund, channelTransactionId: 'x' }, signal),
    ).resolves.toEqual({
      ok: true,
      value: { status: 'succeeded', channelRefundId: 'sandbox-refund-r1' },
    });
    await expect(after.channel.gateway.queryOrder(paymentId, signal)).resolves.toEqual({
      ok: true,
      value: {
        status: 'succeeded',
        channelTransactionId: 'hand-signed-1',
        amountMinor: 1000,
        currency: 'EUR',
        paidAt: '2026-11-22T10:00:00.000Z',
      },
    });
    after.close();
  });

  it("takes a callback's outcome with one prepared statement: no statement object built per callback, nothing read first", () => {
    const nowMs = Date.parse('2026-11-22T10:00:00Z');
    const { database, close } = open({ nowMs: () => nowMs, status: () => 200 });
    const calls: string[] = [];
    const counted = new Proxy(database, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'prepare' && name !== 'pragma') return value;
        return (...args: unknown[]) => {
          calls.push(String(name));
          return (value as (...inner: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const store = createSqliteSandboxStore(counted);
    const channel = createSandboxChannel({
      secret: 'sandbox-secret',
      store,
      nowMs: () => nowMs,
      deliver: () => Promise.resolve(200),
    });
    store.saveOrder({
      paymentId: 'p-open',
      amountMinor: 700,
      currency: 'EUR',
      status: 'pending',
      transactionId: null,
      updatedAt: '2026-11-22T09:00:00.000Z',
    });
    calls.length = 0;
    const failed = { kind: 'payment' as const, outcome: 'failed' as const };
    channel.observe(paidBySignedCallback, nowMs);
    channel.observe({ ...paidBySignedCallback, channelTransactionId: 'second' }, nowMs);
    channel.observe(
      { ...failed, paymentId: 'p-open', channelTransactionId: 'declined-1', failureReason: 'no' },
      nowMs,
    );
    channel.observe(
      {
        ...failed,
        paymentId: 'p-unknown',
        channelTransactionId: 'declined-2',
        failureReason: 'no',
      },
      nowMs,
    );
    expect(calls).toEqual([]);
    expect(store.order(paymentId)).toMatchObject({
      status: 'succeeded',
      transactionId: 'hand-signed-1',
    });
    expect(store.order('p-open')).toMatchObject({
      status: 'failed',
      transactionId: 'declined-1',
      amountMinor: 700,
    });
    expect(store.order('p-unknown')).toBeUndefined();
    expect(database.pragma('synchronous', { simple: true })).toBe(2);
    close();
  });

  it('writes the outcomes observed in one turn in one commit, which any other use of the books writes first', async () => {
    const { database, close } = open({ nowMs: Date.now, status: () => 200 });
    let commitCount = 0; // Commits without an fsync: each sets synchronous=NORMAL first.
    const counted = new Proxy(database, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'exec') return value;
        return (sql: string) => {
          if (sql === 'PRAGMA synchronous = NORMAL') commitCount += 1;
          return target.exec(sql);
        };
      },
    });
    const store = createSqliteSandboxStore(counted);
    const outcome = (index: number) => ({
      paymentId: `p-${index}`,
      transactionId: `tx-${index}`,
      updatedAt: '2026-11-22T10:00:00.000Z',
      status: 'succeeded' as const,
      amountMinor: 100 + index,
      currency: 'EUR',
    });
    for (let index = 0; index < 20; index += 1) store.observeOutcome(outcome(index));
    expect(commitCount).toBe(0);
    expect(store.order('p-7')).toMatchObject({ status: 'succeeded', amountMinor: 107 });
    expect(commitCount).toBe(1);
    for (let index = 20; index < 25; index += 1) store.observeOutcome(outcome(index));
    const reader = openSqliteDatabase(join(dir, 'service.sqlite'));
    await eventuallyTrue(() => readSandboxOrders(reader).length === 25, {
      timeoutMs: 5000,
      what: "the next turn's outcomes committed",
    });
    expect(commitCount).toBe(2);
    reader.close();
    close();
  });

  it("takes a callback's outcome while a write batch of the turn is open on the same file (a payment's idempotency key)", async () => {
    const nowMs = Date.parse('2026-11-22T10:00:00Z');
    const { channel, database, close } = open({ nowMs: () => nowMs, status: () => 200 });
    const batched = createWriteBatch(database).run(() => 'key stored');
    expect(database.inTransaction).toBe(true);
    channel.observe(paidBySignedCallback, nowMs);
    await expect(batched).resolves.toBe('key stored');
    await expect(channel.gateway.queryOrder(paymentId, signal)).resolves.toMatchObject({
      value: { status: 'succeeded', channelTransactionId: 'hand-signed-1' },
    });
    expect(database.pragma('synchronous', { simple: true })).toBe(2);
    close();
  });

  it('refunds a payment it learnt from a verified callback, once per refund id, within the paid amount', async () => {
    const nowMs = Date.parse('2026-11-22T10:00:00Z');
    const { channel, delivered, close } = open({ nowMs: () => nowMs, status: () => 200 });
    await expect(channel.gateway.refund(refund, signal)).resolves.toMatchObject({
      ok: false,
      reason: 'order not paid',
    });
    channel.observe(paidBySignedCallback, nowMs);
    await expect(channel.gateway.refund(refund, signal)).resolves.toEqual({
      ok: true,
      value: { status: 'accepted', channelRefundId: null },
    });
    await expect(channel.gateway.refund(refund, signal)).resolves.toMatchObject({ ok: true });
    await expect(
      channel.gateway.refund({ ...refund, amountMinor: 101 }, signal),
    ).resolves.toMatchObject({ ok: false, reason: 'refund id reused with another amount' });
    await expect(
      channel.gateway.refund({ ...refund, refundId: 'r2', amountMinor: 901 }, signal),
    ).resolves.toMatchObject({ ok: false, reason: 'refund exceeds the paid amount' });
    await expect(
      channel.gateway.queryRefund({ ...refund, refundId: 'r3' }, signal),
    ).resolves.toEqual({ ok: true, value: { status: 'unknown' } });
    await channel.flush();
    expect(delivered.map((body) => [body.event, body.refundId])).toEqual([
      ['refund.succeeded', 'r1'],
    ]);
    close();
  });

  it('keeps the first outcome a callback reported, and reports a refused refund as failed', async () => {
    const nowMs = Date.parse('2026-11-22T10:00:00Z');
    const { channel, close } = open({ nowMs: () => nowMs, status: () => 200 });
    channel.observe(paidBySignedCallback, nowMs);
    channel.observe(
      { ...paidBySignedCallback, channelTransactionId: 'second', amountMinor: 5 },
      nowMs,
    );
    await expect(channel.gateway.queryOrder(paymentId, signal)).resolves.toMatchObject({
      value: { channelTransactionId: 'hand-signed-1', amountMinor: 1000 },
    });
    channel.setScript({ failRefunds: true });
    await channel.gateway.refund(refund, signal);
    await expect(channel.gateway.queryRefund(refund, signal)).resolves.toEqual({
      ok: true,
      value: { status: 'failed', failureReason: 'refused by sandbox' },
    });
    close();
  });
});

describe('sandbox channel on a failing store', () => {
  it('answers a transient failure when its books are unavailable (a full disk), as a 5xx', async () => {
    const store = createSqliteSandboxStore(openSqliteDatabase(':memory:'));
    const channel = createSandboxChannel({
      secret: 'sandbox-secret',
      store: {
        ...store,
        refund: () => {
          throw new UnavailableError('sandbox store: SQLITE_FULL');
        },
      },
      nowMs: Date.now,
      deliver: () => Promise.resolve(200),
    });
    await expect(channel.gateway.refund(refund, new AbortController().signal)).resolves.toEqual({
      ok: false,
      kind: 'transient',
      reason: 'sandbox: sandbox store: SQLITE_FULL',
    });
  });

  it('keeps the outcomes a full disk refused and refuses the next use of its books until they are written', () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteSandboxStore(database);
    const pageCount = database.pragma('page_count', { simple: true }) as number;
    database.pragma(`max_page_count = ${pageCount}`);
    const paidOutcome = {
      paymentId,
      transactionId: 'tx-paid',
      updatedAt: '2026-11-22T10:00:00.000Z',
      status: 'succeeded' as const,
      amountMinor: 1000,
      currency: 'EUR',
    };
    // More than the pages left hold, observed in one turn: their commit fails as a whole.
    for (let index = 0; index < 2000; index += 1)
      store.observeOutcome({ ...paidOutcome, paymentId: `p-${index}-${'x'.repeat(64)}` });
    store.observeOutcome(paidOutcome);
    expect(() => store.order(paymentId)).toThrow(UnavailableError);
    expect(() => store.observeOutcome({ ...paidOutcome, paymentId: 'p-later' })).toThrow(
      UnavailableError,
    );
    database.pragma(`max_page_count = ${pageCount * 1000}`);
    expect(store.order(paymentId)).toMatchObject({ status: 'succeeded', transactionId: 'tx-paid' });
    expect(store.order('p-later')).toMatchObject({ status: 'succeeded' });
  });

  it('turns a full disk (SQLITE_FULL) into UnavailableError', () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteSandboxStore(database);
    const pageCount = database.pragma('page_count', { simple: true }) as number;
    database.pragma(`max_page_count = ${pageCount}`);
    const body = {
      event: 'refund.failed' as const,
      paymentId,
      refundId: 'r1',
      failureReason: 'x'.repeat(128),
    };
    let thrown: unknown = null;
    try {
      for (let count = 0; count < 10_000; count += 1) store.enqueue(body, 0);
    } catch (error: unknown) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnavailableError);
    expect(thrown).toMatchObject({ message: 'sandbox store: SQLITE_FULL' });
  });
});
