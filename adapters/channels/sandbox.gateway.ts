import { randomUUID } from 'node:crypto';
import type { ChannelNotification } from '../../domain/ports/channel-callback.port';
import type { RefundStatementRow, StatementRow } from '../../domain/reconciliation/reconciliation';
import { UnavailableError } from '../../domain/ports/event-store.port';
import type { ChannelCallResult } from '../../domain/ports/payment-channel.port';
import type { RawChannelGateway } from './resilient-gateway';
import { signSandboxCallback, type SandboxCallbackBody } from './sandbox.channel';
import type { SandboxOrder } from '../../domain/ports/sandbox-desk.port';
import type { SandboxOutgoing, SandboxRefund, SandboxStore } from './sqlite.sandbox-store';

/**
 * The sandbox channel in-process: it takes orders like a real channel and calls back like one,
 * signed with the sandbox secret, through `deliver`. Its books (orders, refunds, callbacks not yet
 * delivered) are durable in `store`, so it answers queries and resends callbacks after a restart
 * (an HTTP POST to the service, or a test's own client). A script makes it misbehave: late, duplicated, reordered and failing callbacks,
 * failing refunds, transiently failing API calls.
 */
export type SandboxScript = {
  /** Callbacks become due this long after the event. */
  callbackDelayMs: number;
  /** Extra copies sent of every callback. */
  duplicateCount: number;
  /** Due callbacks go out newest first. */
  reversed: boolean;
  /** The next N deliveries are lost (kept and retried at the next flush). */
  lostDeliveryCount: number;
  /** Refunds are accepted, then reported failed. */
  failRefunds: boolean;
  /** The next N API calls answer a transient failure. */
  failingCallCount: number;
};

const UNPAYABLE = {
  closed: 'order_closed',
  succeeded: 'order_paid',
  failed: 'order_failed',
} as const;

const CALM_SCRIPT: SandboxScript = {
  callbackDelayMs: 0,
  duplicateCount: 0,
  reversed: false,
  lostDeliveryCount: 0,
  failRefunds: false,
  failingCallCount: 0,
};
/**
 * A failed delivery is tried again after 1 s, 2 s, 4 s … at most a minute apart, 12 times in all
 * (over about 6 minutes: a restarting service is back well within that); a scripted loss at the
 * next flush.
 */
const DELIVERY_ATTEMPT_COUNT_MAX = 12;
const DELIVERY_RETRY_BASE_MS = 1000;
const DELIVERY_RETRY_MAX_MS = 60_000;
/** Callbacks sent by one flush; the rest wait for the next. */
const FLUSH_CALLBACK_COUNT_MAX = 256;

/** What paying a sandbox order did: refused unless the order is open (pending) in the books. */
export type SandboxPayment =
  | { ok: true; channelTransactionId: string; paidAt: string }
  | { ok: false; reason: 'no_such_order' | 'order_closed' | 'order_paid' | 'order_failed' };

export type SandboxChannel = {
  gateway: RawChannelGateway;
  /**
   * The payer pays an order; refused unless the order is still open (a closed one can no longer
   * be paid, as on a real channel). An override reports another amount or currency (mismatch
   * tests); `loseNotification` pays the order in the books but never sends its success callback
   * (only a query finds it paid).
   */
  pay(
    paymentId: string,
    options?: { amountMinor?: number; currency?: string; loseNotification?: boolean },
  ): SandboxPayment;
  /** The order as the sandbox's books know it. */
  order(paymentId: string): SandboxOrder | undefined;
  /** The payer's bank declines. */
  decline(paymentId: string): void;
  /**
   * A verified sandbox callback reported this outcome (the CLI, or one signed by hand): the
   * channel's books take it, so that a payment paid that way can be queried and refunded.
   */
  observe(notification: ChannelNotification, nowMs: number): void;
  /** Sends every due callback per the script; undelivered ones stay for a later flush. */
  flush(): Promise<{ deliveredCount: number; failedCount: number; waitingCount: number }>;
  setScript(script: Partial<SandboxScript>): void;
  /** The channel's statement: one row per order that reached an outcome. */
  statementRows(): StatementRow[];
  /** The statement's refunds: one row per refund, with its outcome. */
  refundRows(): RefundStatementRow[];
};

type SandboxState = {
  store: SandboxStore;
  /** When a callback enqueued now becomes due. */
  callbackDueAtMs: () => number;
  /** The scripted transient failure for this call, if one is due. */
  injectedFailure: () => ChannelCallResult<never> | null;
  failRefunds: () => boolean;
  now: () => string;
  /** An order as the sandbox knows it: its own book, else what the CLI played as this channel took. */
  orderOf: (paymentId: string) => SandboxOrder | undefined;
};

const refundCallback = (refund: SandboxRefund): SandboxCallbackBody => {
  const { paymentId, refundId, outcome } = refund;
  return outcome.status === 'succeeded'
    ? { event: 'refund.succeeded', paymentId, refundId, channelRefundId: outcome.channelRefundId }
    : { event: 'refund.failed', paymentId, refundId, failureReason: outcome.reason };
};

/** An outage of the sandbox's own store is a transient failure of its API, as a real channel's 5xx. */
const transientOnOutage =
  <Args extends unknown[], Value>(
    call: (...args: Args) => Promise<ChannelCallResult<Value>>,
  ): ((...args: Args) => Promise<ChannelCallResult<Value>>) =>
  async (...args) => {
    try {
      return await call(...args);
    } catch (error: unknown) {
      if (!(error instanceof UnavailableError)) throw error;
      return { ok: false, kind: 'transient', reason: `sandbox: ${error.message}` };
    }
  };

const resilientToOutages = (gateway: RawChannelGateway): RawChannelGateway => ({
  channel: gateway.channel,
  createOrder: transientOnOutage(gateway.createOrder),
  queryOrder: transientOnOutage(gateway.queryOrder),
  closeOrder: transientOnOutage(gateway.closeOrder),
  refund: transientOnOutage(gateway.refund),
  queryRefund: transientOnOutage(gateway.queryRefund),
});

/** The sandbox's API over its durable books; refunds are answered by a later callback. */
const sandboxGateway = (state: SandboxState): RawChannelGateway => ({
  channel: 'sandbox',
  createOrder: async (order) => {
    const failure = state.injectedFailure();
    if (failure !== null) return failure;
    const known = state.store.order(order.paymentId);
    if (known !== undefined && known.status !== 'pending')
      return { ok: false, kind: 'permanent', reason: `order is ${known.status}` };
    state.store.saveOrder({
      paymentId: order.paymentId,
      amountMinor: order.amountMinor,
      currency: order.currency,
      status: 'pending',
      transactionId: null,
      updatedAt: state.now(),
    });
    return { ok: true, value: { payerParameters: { payUrl: `sandbox://pay/${order.paymentId}` } } };
  },
  queryOrder: async (paymentId) => {
    const failure = state.injectedFailure();
    if (failure !== null) return failure;
    const order = state.orderOf(paymentId);
    if (order === undefined) return { ok: false, kind: 'permanent', reason: 'no such order' };
    const paid = order.status === 'succeeded';
    return {
      ok: true,
      value: {
        status: order.status,
        channelTransactionId: order.transactionId,
        amountMinor: paid ? order.amountMinor : null,
        currency: paid ? order.currency : null,
        paidAt: paid ? new Date(order.updatedAt).toISOString() : null,
      },
    };
  },
  closeOrder: async (paymentId) => {
    const failure = state.injectedFailure();
    if (failure !== null) return failure;
    const order = state.orderOf(paymentId);
    if (order === undefined || order.status === 'succeeded')
      return {
        ok: false,
        kind: 'permanent',
        reason: order === undefined ? 'no such order' : 'order already paid',
      };
    state.store.saveOrder({ ...order, status: 'closed', updatedAt: state.now() });
    return { ok: true, value: { closed: true } };
  },
  refund: async (request) => {
    const failure = state.injectedFailure();
    if (failure !== null) return failure;
    const { paymentId, refundId, amountMinor } = request;
    const known = state.store.refund(paymentId, refundId);
    if (known !== undefined)
      return known.amountMinor === amountMinor
        ? { ok: true, value: { status: 'accepted', channelRefundId: null } }
        : { ok: false, kind: 'permanent', reason: 'refund id reused with another amount' };
    const order = state.orderOf(paymentId);
    if (order === undefined || order.status !== 'succeeded')
      return { ok: false, kind: 'permanent', reason: 'order not paid' };
    if (state.store.refundedMinor(paymentId) + amountMinor > order.amountMinor)
      return { ok: false, kind: 'permanent', reason: 'refund exceeds the paid amount' };
    const refund: SandboxRefund = {
      paymentId,
      refundId,
      amountMinor,
      outcome: state.failRefunds()
        ? { status: 'failed', reason: 'refused by sandbox' }
        : { status: 'succeeded', channelRefundId: `sandbox-refund-${refundId}` },
      requestedAt: state.now(),
    };
    // The refund and its callback in one commit: after a crash the callback is still sent.
    state.store.saveRefund(refund, refundCallback(refund), state.callbackDueAtMs());
    return { ok: true, value: { status: 'accepted', channelRefundId: null } };
  },
  queryRefund: async (query) => {
    const failure = state.injectedFailure();
    if (failure !== null) return failure;
    const refund = state.store.refund(query.paymentId, query.refundId);
    if (refund === undefined) return { ok: true, value: { status: 'unknown' } };
    const { outcome } = refund;
    return {
      ok: true,
      value:
        outcome.status === 'succeeded'
          ? { status: 'succeeded', channelRefundId: outcome.channelRefundId }
          : { status: 'failed', failureReason: outcome.reason },
    };
  },
});

/** Statement rows: one per order that reached an outcome with a transaction. */
export const sandboxStatementRows = (orders: Iterable<SandboxOrder>): StatementRow[] =>
  [...orders]
    .filter(
      (
        order,
      ): order is SandboxOrder & {
        status: 'succeeded' | 'closed' | 'failed';
        transactionId: string;
      } => order.status !== 'pending' && order.transactionId !== null,
    )
    .map((order) => ({
      paymentId: order.paymentId,
      channelTransactionId: order.transactionId,
      status: order.status,
      amountMinor: order.amountMinor,
      currency: order.currency,
      occurredAt: order.updatedAt,
    }));

export const createSandboxChannel = (options: {
  secret: string;
  deliver: (rawBody: Buffer, signature: string) => Promise<number>;
  nowMs: () => number;
  /** The channel's books: orders, refunds and callbacks not delivered yet. */
  store: SandboxStore;
  /** Payments this channel took outside the service process (the CLI's journal), by payment id. */
  paidElsewhere?: (paymentId: string) => StatementRow | undefined;
}): SandboxChannel => {
  const { store } = options;
  let script: SandboxScript = { ...CALM_SCRIPT };
  let flushing: ReturnType<SandboxChannel['flush']> | null = null;
  const now = (): string => new Date(options.nowMs()).toISOString();
  const callbackDueAtMs = (): number => options.nowMs() + script.callbackDelayMs;
  const enqueue = (body: SandboxCallbackBody): void => store.enqueue(body, callbackDueAtMs());
  const injectedFailure = (): ChannelCallResult<never> | null => {
    if (script.failingCallCount === 0) return null;
    script.failingCallCount -= 1;
    return { ok: false, kind: 'transient', reason: 'sandbox: scripted failure' };
  };
  const knownOrder = (paymentId: string): SandboxOrder | undefined => {
    const own = store.order(paymentId);
    if (own !== undefined && own.status !== 'pending') return own;
    const row = options.paidElsewhere?.(paymentId);
    if (row === undefined) return own;
    // A refunded order was paid first; refunds are tracked per refund by the service.
    const status = row.status === 'refunded' ? 'succeeded' : row.status;
    return {
      paymentId,
      amountMinor: row.amountMinor,
      currency: row.currency,
      status,
      transactionId: row.channelTransactionId,
      updatedAt: row.occurredAt,
    };
  };
  const ownOrder = (paymentId: string): SandboxOrder => {
    const order = store.order(paymentId);
    if (order === undefined) throw new Error(`sandbox: no order for payment ${paymentId}`);
    return order;
  };
  const settle = (
    paymentId: string,
    status: 'succeeded' | 'failed',
    terms: Partial<SandboxOrder> = {},
  ): SandboxOrder & { transactionId: string } => {
    const transactionId = `sandbox-tx-${randomUUID()}`;
    const settled = { ...ownOrder(paymentId), ...terms, status, transactionId, updatedAt: now() };
    store.saveOrder(settled);
    return settled;
  };

  /** 'delivered', 'lost' (scripted: retried at the next flush) or 'failed'. */
  const deliverOne = async (item: SandboxOutgoing): Promise<'delivered' | 'lost' | 'failed'> => {
    if (script.lostDeliveryCount > 0) {
      script.lostDeliveryCount -= 1;
      return 'lost';
    }
    const raw = Buffer.from(JSON.stringify(item.body));
    let delivered = false;
    for (let copy = 0; copy <= script.duplicateCount; copy += 1) {
      const status = await options
        .deliver(raw, signSandboxCallback(options.secret, raw, options.nowMs()))
        .catch(() => 0); // The service is not listening (yet): retried later.
      delivered = delivered || (status >= 200 && status < 300);
    }
    return delivered ? 'delivered' : 'failed';
  };

  const flushDue = async (): ReturnType<SandboxChannel['flush']> => {
    const nowMs = options.nowMs();
    const due = store.due(nowMs, FLUSH_CALLBACK_COUNT_MAX);
    if (script.reversed) due.reverse();
    let deliveredCount = 0;
    let failedCount = 0;
    for (const item of due) {
      const outcome = await deliverOne(item);
      if (outcome === 'delivered') {
        store.delivered(item.outgoingId);
        deliveredCount += 1;
        continue;
      }
      failedCount += 1;
      const attemptCount = item.attemptCount + 1;
      const retryMs = Math.min(
        DELIVERY_RETRY_MAX_MS,
        DELIVERY_RETRY_BASE_MS * 2 ** item.attemptCount,
      );
      const next =
        attemptCount >= DELIVERY_ATTEMPT_COUNT_MAX
          ? 'drop'
          : { dueAtMs: outcome === 'lost' ? item.dueAtMs : nowMs + retryMs };
      store.failed(item.outgoingId, attemptCount, next);
    }
    return { deliveredCount, failedCount, waitingCount: store.waitingCount() };
  };

  return {
    gateway: resilientToOutages(
      sandboxGateway({
        store,
        callbackDueAtMs,
        injectedFailure,
        failRefunds: () => script.failRefunds,
        now,
        orderOf: knownOrder,
      }),
    ),
    pay: (paymentId, options = {}) => {
      const known = knownOrder(paymentId);
      if (known === undefined) return { ok: false, reason: 'no_such_order' };
      if (known.status !== 'pending') return { ok: false, reason: UNPAYABLE[known.status] };
      const paid = settle(paymentId, 'succeeded', {
        amountMinor: options.amountMinor ?? known.amountMinor,
        currency: options.currency ?? known.currency,
      });
      if (options.loseNotification !== true)
        enqueue({
          event: 'payment.succeeded',
          paymentId,
          channelTransactionId: paid.transactionId,
          amountMinor: paid.amountMinor,
          currency: paid.currency,
          paidAt: paid.updatedAt,
        });
      return { ok: true, channelTransactionId: paid.transactionId, paidAt: paid.updatedAt };
    },
    order: knownOrder,
    decline: (paymentId) => {
      const declined = settle(paymentId, 'failed');
      enqueue({
        event: 'payment.failed',
        paymentId,
        channelTransactionId: declined.transactionId,
        failureReason: 'declined by sandbox',
      });
    },
    observe: (notification, nowMs) => {
      if (notification.kind !== 'payment') return;
      // The first outcome stands, as on a real channel: a second payment is the service's to flag.
      const { paymentId, channelTransactionId: transactionId } = notification;
      const updatedAt = new Date(nowMs).toISOString();
      store.observeOutcome(
        notification.outcome === 'succeeded'
          ? {
              paymentId,
              transactionId,
              updatedAt,
              status: 'succeeded',
              amountMinor: notification.amountMinor,
              currency: notification.currency,
            }
          : { paymentId, transactionId, updatedAt, status: 'failed' },
      );
    },
    flush: () => {
      // One flush at a time: a slow delivery must not be sent again by the next interval's flush.
      flushing ??= flushDue().finally(() => {
        flushing = null;
      });
      return flushing;
    },
    setScript: (changes) => {
      script = { ...script, ...changes };
    },
    statementRows: () => sandboxStatementRows(store.orders()),
    refundRows: () =>
      store.refunds().map((refund) => ({
        paymentId: refund.paymentId,
        refundId: refund.refundId,
        channelRefundId:
          refund.outcome.status === 'succeeded' ? refund.outcome.channelRefundId : null,
        status: refund.outcome.status,
        amountMinor: refund.amountMinor,
        currency: store.order(refund.paymentId)?.currency ?? '',
        occurredAt: refund.requestedAt,
      })),
  };
};
