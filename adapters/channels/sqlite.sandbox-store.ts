import { UnavailableError } from '../../domain/ports/event-store.port';
import type { SandboxOrder } from '../../domain/ports/sandbox-desk.port';
import { createTurnCommits } from '../sqlite/commit-without-fsync';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';
import type { SandboxCallbackBody } from './sandbox.channel';

export type SandboxRefund = {
  paymentId: string;
  refundId: string;
  amountMinor: number;
  outcome: { status: 'succeeded'; channelRefundId: string } | { status: 'failed'; reason: string };
  requestedAt: string;
};

/** An outcome a verified callback reported: a success carries what was paid. */
export type ObservedOutcome = { paymentId: string; transactionId: string; updatedAt: string } & (
  { status: 'succeeded'; amountMinor: number; currency: string } | { status: 'failed' }
);

export type SandboxOutgoing = {
  outgoingId: number;
  body: SandboxCallbackBody;
  dueAtMs: number;
  attemptCount: number;
};

/**
 * The sandbox channel's books in the service database (synchronous=FULL: what it answered
 * survives a kill -9): its orders, its refunds, and its callbacks not delivered yet, resent after
 * a restart as a real channel resends its notifications.
 */
export type SandboxStore = {
  order(paymentId: string): SandboxOrder | undefined;
  saveOrder(order: SandboxOrder): void;
  /**
   * An outcome a verified callback reported, taken unless the books hold one already (the first
   * outcome stands; a failure only settles an order the books hold open): one statement, no read
   * before it. The outcomes observed in one event-loop turn are written at the next turn in one
   * commit without an fsync of its own (synchronous=NORMAL for that commit; every other use of
   * the store writes them first, so it reads them at once): a callback is answered only once the
   * payment's commit is durable, later than that, so an answered callback's outcome survives a
   * kill -9, as the OS holds the WAL; only a power loss may take the last ones back, and the next
   * synchronous commit on the database makes them durable too. Every other write stays
   * synchronous=FULL.
   */
  observeOutcome(outcome: ObservedOutcome): void;
  orders(): SandboxOrder[];
  refund(paymentId: string, refundId: string): SandboxRefund | undefined;
  /** Every refund, oldest first (the statement's refund rows). */
  refunds(): SandboxRefund[];
  /** Σ of the succeeded refunds of one order. */
  refundedMinor(paymentId: string): number;
  /** The refund and the callback that reports it, in one commit. */
  saveRefund(refund: SandboxRefund, callback: SandboxCallbackBody, dueAtMs: number): void;
  enqueue(callback: SandboxCallbackBody, dueAtMs: number): void;
  /** Callbacks due at nowMs, oldest first, at most countMax. */
  due(nowMs: number, countMax: number): SandboxOutgoing[];
  delivered(outgoingId: number): void;
  /** A failed delivery: tried again from dueAtMs, or dropped when `drop`. */
  failed(outgoingId: number, attemptCount: number, next: { dueAtMs: number } | 'drop'): void;
  waitingCount(): number;
};

const SCHEMA_VERSION = 1;
const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS sandbox_orders (
    payment_id TEXT PRIMARY KEY,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    transaction_id TEXT,
    updated_at TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS sandbox_refunds (
    payment_id TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    status TEXT NOT NULL,
    channel_refund_id TEXT,
    failure_reason TEXT,
    requested_at TEXT NOT NULL,
    PRIMARY KEY (payment_id, refund_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS sandbox_outbox (
    outgoing_id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    due_at_ms INTEGER NOT NULL,
    attempt_count INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS sandbox_outbox_by_due ON sandbox_outbox (due_at_ms);
`;

type OrderRow = {
  payment_id: string;
  amount_minor: number;
  currency: string;
  status: SandboxOrder['status'];
  transaction_id: string | null;
  updated_at: string;
};
type RefundRow = {
  payment_id: string;
  refund_id: string;
  amount_minor: number;
  status: 'succeeded' | 'failed';
  channel_refund_id: string | null;
  failure_reason: string | null;
  requested_at: string;
};
type OutboxRow = { outgoing_id: number; body: string; due_at_ms: number; attempt_count: number };

const orderOf = (row: OrderRow): SandboxOrder => ({
  paymentId: row.payment_id,
  amountMinor: row.amount_minor,
  currency: row.currency,
  status: row.status,
  transactionId: row.transaction_id,
  updatedAt: row.updated_at,
});

const refundOf = (row: RefundRow): SandboxRefund => ({
  paymentId: row.payment_id,
  refundId: row.refund_id,
  amountMinor: row.amount_minor,
  outcome:
    row.status === 'succeeded'
      ? { status: 'succeeded', channelRefundId: row.channel_refund_id ?? '' }
      : { status: 'failed', reason: row.failure_reason ?? '' },
  requestedAt: row.requested_at,
});

/**
 * The orders of the sandbox's books in a service database (the CLI's view, beside a running
 * service); none before the service created them.
 */
export const readSandboxOrders = (database: SqliteDatabase): SandboxOrder[] => {
  const table = database
    .prepare(
      "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'sandbox_orders'",
    )
    .get();
  if (table === undefined) return [];
  return database
    .prepare<[], OrderRow>('SELECT * FROM sandbox_orders ORDER BY updated_at, payment_id')
    .all()
    .map(orderOf);
};

/** A locked, broken or full disk is an outage (UnavailableError: 503, a transient channel failure). */
const OUTAGE_CODES = ['SQLITE_BUSY', 'SQLITE_IOERR', 'SQLITE_FULL'];
const outageOr = (error: unknown): unknown => {
  const code =
    typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  return OUTAGE_CODES.some((prefix) => code.startsWith(prefix))
    ? new UnavailableError(`sandbox store: ${code}`, { cause: error })
    : error;
};

/** Runs one store operation, its outage thrown as UnavailableError. */
const guarded = <T>(work: () => T): T => {
  try {
    return work();
  } catch (error: unknown) {
    throw outageOr(error);
  }
};

export const createSqliteSandboxStore = (database: SqliteDatabase): SandboxStore => {
  ensureSchema(database, 'sandbox', SCHEMA_VERSION, (db) => db.exec(SCHEMA_SQL));
  const selectOrder = database.prepare<[string], OrderRow>(
    'SELECT * FROM sandbox_orders WHERE payment_id = ?',
  );
  const upsertOrder = database.prepare<[string, number, string, string, string | null, string]>(
    `INSERT INTO sandbox_orders (payment_id, amount_minor, currency, status, transaction_id, updated_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (payment_id) DO UPDATE SET amount_minor = excluded.amount_minor,
       currency = excluded.currency, status = excluded.status,
       transaction_id = excluded.transaction_id, updated_at = excluded.updated_at`,
  );
  // The first outcome stands: a row the books hold decided is left as it is.
  const observeSuccess = database.prepare<[string, number, string, string, string]>(
    `INSERT INTO sandbox_orders (payment_id, amount_minor, currency, status, transaction_id, updated_at)
     VALUES (?, ?, ?, 'succeeded', ?, ?)
     ON CONFLICT (payment_id) DO UPDATE SET amount_minor = excluded.amount_minor,
       currency = excluded.currency, status = excluded.status,
       transaction_id = excluded.transaction_id, updated_at = excluded.updated_at
     WHERE sandbox_orders.status = 'pending'`,
  );
  const observeFailure = database.prepare<[string, string, string]>(
    `UPDATE sandbox_orders SET status = 'failed', transaction_id = ?, updated_at = ?
     WHERE payment_id = ? AND status = 'pending'`,
  );
  const selectOrders = database.prepare<[], OrderRow>(
    'SELECT * FROM sandbox_orders ORDER BY updated_at, payment_id',
  );
  const selectRefund = database.prepare<[string, string], RefundRow>(
    'SELECT * FROM sandbox_refunds WHERE payment_id = ? AND refund_id = ?',
  );
  const selectRefunds = database.prepare<[], RefundRow>(
    'SELECT * FROM sandbox_refunds ORDER BY requested_at, payment_id, refund_id',
  );
  const sumRefunds = database.prepare<[string], { total: number | null }>(
    "SELECT SUM(amount_minor) AS total FROM sandbox_refunds WHERE payment_id = ? AND status = 'succeeded'",
  );
  const insertRefund = database.prepare<
    [string, string, number, string, string | null, string | null, string]
  >(
    `INSERT INTO sandbox_refunds
       (payment_id, refund_id, amount_minor, status, channel_refund_id, failure_reason, requested_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertOutgoing = database.prepare<[string, number]>(
    'INSERT INTO sandbox_outbox (body, due_at_ms, attempt_count) VALUES (?, ?, 0)',
  );
  const selectDue = database.prepare<[number, number], OutboxRow>(
    'SELECT * FROM sandbox_outbox WHERE due_at_ms <= ? ORDER BY due_at_ms, outgoing_id LIMIT ?',
  );
  const deleteOutgoing = database.prepare<[number]>(
    'DELETE FROM sandbox_outbox WHERE outgoing_id = ?',
  );
  const rescheduleOutgoing = database.prepare<[number, number, number]>(
    'UPDATE sandbox_outbox SET attempt_count = ?, due_at_ms = ? WHERE outgoing_id = ?',
  );
  const countOutgoing = database.prepare<[], { waiting: number }>(
    'SELECT COUNT(*) AS waiting FROM sandbox_outbox',
  );
  const saveRefund = database.transaction(
    (refund: SandboxRefund, callback: SandboxCallbackBody, dueAtMs: number) => {
      const { outcome } = refund;
      insertRefund.run(
        refund.paymentId,
        refund.refundId,
        refund.amountMinor,
        outcome.status,
        outcome.status === 'succeeded' ? outcome.channelRefundId : null,
        outcome.status === 'failed' ? outcome.reason : null,
        refund.requestedAt,
      );
      insertOutgoing.run(JSON.stringify(callback), dueAtMs);
    },
  );
  const upsert = (order: SandboxOrder): void => {
    upsertOrder.run(
      order.paymentId,
      order.amountMinor,
      order.currency,
      order.status,
      order.transactionId,
      order.updatedAt,
    );
  };
  const observed = createTurnCommits(
    database,
    database.transaction((outcomes: readonly ObservedOutcome[]) => {
      for (const outcome of outcomes) {
        const { paymentId, transactionId, updatedAt } = outcome;
        if (outcome.status === 'succeeded')
          observeSuccess.run(
            paymentId,
            outcome.amountMinor,
            outcome.currency,
            transactionId,
            updatedAt,
          );
        else observeFailure.run(transactionId, updatedAt, paymentId);
      }
    }),
  );
  /** Every use but an observation writes the observed outcomes first (their order, and reads). */
  const flushedFirst = <T>(work: () => T): T =>
    guarded(() => {
      observed.flush();
      return work();
    });
  return {
    order: (paymentId) =>
      flushedFirst(() => {
        const row = selectOrder.get(paymentId);
        return row === undefined ? undefined : orderOf(row);
      }),
    saveOrder: (order) => flushedFirst(() => upsert(order)),
    observeOutcome: (outcome) => guarded(() => observed.add(outcome)),
    orders: () => flushedFirst(() => selectOrders.all().map(orderOf)),
    refund: (paymentId, refundId) =>
      flushedFirst(() => {
        const row = selectRefund.get(paymentId, refundId);
        return row === undefined ? undefined : refundOf(row);
      }),
    refunds: () => flushedFirst(() => selectRefunds.all().map(refundOf)),
    refundedMinor: (paymentId) => flushedFirst(() => sumRefunds.get(paymentId)?.total ?? 0),
    saveRefund: (refund, callback, dueAtMs) =>
      flushedFirst(() => saveRefund.immediate(refund, callback, dueAtMs)),
    enqueue: (callback, dueAtMs) => {
      flushedFirst(() => insertOutgoing.run(JSON.stringify(callback), dueAtMs));
    },
    due: (nowMs, countMax) =>
      flushedFirst(() => selectDue.all(nowMs, countMax)).map((row) => ({
        outgoingId: row.outgoing_id,
        body: JSON.parse(row.body) as SandboxCallbackBody,
        dueAtMs: row.due_at_ms,
        attemptCount: row.attempt_count,
      })),
    delivered: (outgoingId) => {
      flushedFirst(() => deleteOutgoing.run(outgoingId));
    },
    failed: (outgoingId, attemptCount, next) => {
      flushedFirst(() =>
        next === 'drop'
          ? deleteOutgoing.run(outgoingId)
          : rescheduleOutgoing.run(attemptCount, next.dueAtMs, outgoingId),
      );
    },
    waitingCount: () => flushedFirst(() => countOutgoing.get()?.waiting ?? 0),
  };
};
