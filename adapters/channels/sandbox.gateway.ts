import type { StatementRow } from '../../domain/reconciliation/reconciliation';
import type { ChannelCallResult } from '../../domain/ports/payment-channel.port';
import type { RawChannelGateway } from './resilient-gateway';
import { signSandboxCallback, type SandboxCallbackBody } from './sandbox.channel';

/**
 * The sandbox channel in-process: it takes orders like a real channel and calls back like one,
 * signed with the sandbox secret, through `deliver` (an HTTP POST to the service, or a test's
 * own client). A script makes it misbehave: late, duplicated, reordered and failing callbacks,
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

const CALM_SCRIPT: SandboxScript = {
  callbackDelayMs: 0,
  duplicateCount: 0,
  reversed: false,
  lostDeliveryCount: 0,
  failRefunds: false,
  failingCallCount: 0,
};
const DELIVERY_ATTEMPT_COUNT_MAX = 10;

type Order = {
  paymentId: string;
  amountMinor: number;
  currency: string;
  status: 'pending' | 'succeeded' | 'closed' | 'failed';
  transactionId: string | null;
  updatedAt: string;
};
type Outgoing = { body: SandboxCallbackBody; dueAtMs: number; attemptCount: number };

export type SandboxChannel = {
  gateway: RawChannelGateway;
  /** The payer pays an order; an override reports another amount or currency (mismatch tests). */
  pay(paymentId: string, override?: { amountMinor?: number; currency?: string }): string;
  /** The payer's bank declines. */
  decline(paymentId: string): void;
  /** Sends every due callback per the script; undelivered ones stay for the next flush. */
  flush(): Promise<{ deliveredCount: number; failedCount: number; waitingCount: number }>;
  setScript(script: Partial<SandboxScript>): void;
  /** The channel's statement: one row per order that reached an outcome. */
  statementRows(): StatementRow[];
};

type SandboxState = {
  orders: Map<string, Order>;
  enqueue: (body: SandboxCallbackBody) => void;
  /** The scripted transient failure for this call, if one is due. */
  injectedFailure: () => ChannelCallResult<never> | null;
  failRefunds: () => boolean;
  now: () => string;
  /** An order as the sandbox knows it: its own book, else what the CLI played as this channel took. */
  orderOf: (paymentId: string) => Order | undefined;
};

/** The sandbox's API: orders kept in memory, refunds answered by a later callback. */
const sandboxGateway = (state: SandboxState): RawChannelGateway => ({
  channel: 'sandbox',
  createOrder: async (order) => {
    const failure = state.injectedFailure();
    if (failure !== null) return failure;
    const known = state.orders.get(order.paymentId);
    if (known !== undefined && known.status !== 'pending')
      return { ok: false, kind: 'permanent', reason: `order is ${known.status}` };
    state.orders.set(order.paymentId, {
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
      },
    };
  },
  closeOrder: async (paymentId) => {
    const failure = state.injectedFailure();
    if (failure !== null) return failure;
    const order = state.orders.get(paymentId);
    if (order === undefined || order.status === 'succeeded')
      return {
        ok: false,
        kind: 'permanent',
        reason: order === undefined ? 'no such order' : 'order already paid',
      };
    Object.assign(order, { status: 'closed', updatedAt: state.now() });
    return { ok: true, value: { closed: true } };
  },
  refund: async (request) => {
    const failure = state.injectedFailure();
    if (failure !== null) return failure;
    const order = state.orderOf(request.paymentId);
    if (order === undefined || order.status !== 'succeeded')
      return { ok: false, kind: 'permanent', reason: 'order not paid' };
    const { paymentId, refundId } = request;
    state.enqueue(
      state.failRefunds()
        ? { event: 'refund.failed', paymentId, refundId, failureReason: 'refused by sandbox' }
        : {
            event: 'refund.succeeded',
            paymentId,
            refundId,
            channelRefundId: `sandbox-refund-${refundId}`,
          },
    );
    return { ok: true, value: { status: 'accepted', channelRefundId: null } };
  },
});

/** Statement rows: one per order that reached an outcome with a transaction. */
const statementOf = (orders: Iterable<Order>): StatementRow[] =>
  [...orders]
    .filter(
      (
        order,
      ): order is Order & { status: 'succeeded' | 'closed' | 'failed'; transactionId: string } =>
        order.status !== 'pending' && order.transactionId !== null,
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
  /** Payments this channel took outside the service process (the CLI's journal), by payment id. */
  paidElsewhere?: (paymentId: string) => StatementRow | undefined;
}): SandboxChannel => {
  const orders = new Map<string, Order>();
  let outbox: Outgoing[] = [];
  let script: SandboxScript = { ...CALM_SCRIPT };
  let sequence = 0;
  const now = (): string => new Date(options.nowMs()).toISOString();
  const enqueue = (body: SandboxCallbackBody): void => {
    outbox.push({ body, dueAtMs: options.nowMs() + script.callbackDelayMs, attemptCount: 0 });
  };
  const injectedFailure = (): ChannelCallResult<never> | null => {
    if (script.failingCallCount === 0) return null;
    script.failingCallCount -= 1;
    return { ok: false, kind: 'transient', reason: 'sandbox: scripted failure' };
  };
  const knownOrder = (paymentId: string): Order | undefined => {
    const own = orders.get(paymentId);
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
  const orderOf = (paymentId: string): Order => {
    const order = orders.get(paymentId);
    if (order === undefined) throw new Error(`sandbox: no order for payment ${paymentId}`);
    return order;
  };
  const settle = (
    paymentId: string,
    status: 'succeeded' | 'failed',
    terms: Partial<Order> = {},
  ): Order & { transactionId: string } => {
    sequence += 1;
    const transactionId = `sandbox-tx-${sequence}-${paymentId.slice(0, 8)}`;
    return Object.assign(orderOf(paymentId), { ...terms, status, transactionId, updatedAt: now() });
  };

  const deliverOne = async (item: Outgoing): Promise<boolean> => {
    item.attemptCount += 1;
    if (script.lostDeliveryCount > 0) {
      script.lostDeliveryCount -= 1;
      return false;
    }
    const raw = Buffer.from(JSON.stringify(item.body));
    let delivered = false;
    for (let copy = 0; copy <= script.duplicateCount; copy += 1) {
      const status = await options.deliver(
        raw,
        signSandboxCallback(options.secret, raw, options.nowMs()),
      );
      delivered = delivered || (status >= 200 && status < 300);
    }
    return delivered;
  };

  return {
    gateway: sandboxGateway({
      orders,
      enqueue,
      injectedFailure,
      failRefunds: () => script.failRefunds,
      now,
      orderOf: knownOrder,
    }),
    pay: (paymentId, override = {}) => {
      const known = orderOf(paymentId);
      const paid = settle(paymentId, 'succeeded', {
        amountMinor: override.amountMinor ?? known.amountMinor,
        currency: override.currency ?? known.currency,
      });
      enqueue({
        event: 'payment.succeeded',
        paymentId,
        channelTransactionId: paid.transactionId,
        amountMinor: paid.amountMinor,
        currency: paid.currency,
      });
      return paid.transactionId;
    },
    decline: (paymentId) => {
      const declined = settle(paymentId, 'failed');
      enqueue({
        event: 'payment.failed',
        paymentId,
        channelTransactionId: declined.transactionId,
        failureReason: 'declined by sandbox',
      });
    },
    flush: async () => {
      const nowMs = options.nowMs();
      const due = outbox.filter((item) => item.dueAtMs <= nowMs);
      if (script.reversed) due.reverse();
      let deliveredCount = 0;
      const kept = new Set<Outgoing>();
      for (const item of due) {
        if (await deliverOne(item)) deliveredCount += 1;
        else if (item.attemptCount < DELIVERY_ATTEMPT_COUNT_MAX) kept.add(item);
      }
      outbox = outbox.filter((item) => item.dueAtMs > nowMs || kept.has(item));
      return { deliveredCount, failedCount: kept.size, waitingCount: outbox.length };
    },
    setScript: (changes) => {
      script = { ...script, ...changes };
    },
    statementRows: () => statementOf(orders.values()),
  };
};
