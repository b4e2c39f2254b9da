import type {
  ChannelCallResult,
  ChannelOrderStatus,
} from '../../../domain/ports/payment-channel.port';
import { unixSecondsTime } from '../channel-paid-time';
import { httpCall, isTransientStatus } from '../http-call';
import type { RawChannelGateway } from '../resilient-gateway';

type StripeGatewayOptions = { baseUrl: string; secretKey: string };

type Json = Record<string, unknown>;
const INTENT_STATES: Readonly<Record<string, ChannelOrderStatus['status']>> = {
  succeeded: 'succeeded',
  canceled: 'closed',
  requires_payment_method: 'pending',
  requires_confirmation: 'pending',
  requires_action: 'pending',
  processing: 'pending',
  requires_capture: 'pending',
};

/** Stripe-style REST (form-encoded requests, JSON answers, Idempotency-Key on every POST). */
export const createStripeGateway = (options: StripeGatewayOptions): RawChannelGateway => {
  const request = async (
    method: 'GET' | 'POST',
    path: string,
    form: Record<string, string> | null,
    idempotencyKey: string | null,
    signal: AbortSignal,
  ): Promise<ChannelCallResult<Json>> => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.secretKey}`,
      'content-type': 'application/x-www-form-urlencoded',
    };
    if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
    const body = form === null ? null : new URLSearchParams(form).toString();
    const answer = await httpCall({
      method,
      url: `${options.baseUrl}${path}`,
      headers,
      body,
      signal,
      clientCertificate: null,
    });
    if (isTransientStatus(answer.status))
      return { ok: false, kind: 'transient', reason: `HTTP ${answer.status}` };
    let parsed: Json;
    try {
      parsed = JSON.parse(answer.body) as Json;
    } catch {
      return { ok: false, kind: 'permanent', reason: `HTTP ${answer.status}: answer is not JSON` };
    }
    if (answer.status >= 300) {
      const error = (parsed['error'] ?? {}) as Json;
      return {
        ok: false,
        kind: 'permanent',
        reason: `HTTP ${answer.status}: ${String(error['message'] ?? error['type'] ?? 'refused')}`,
      };
    }
    return { ok: true, value: parsed };
  };

  /** The paid time of an intent: its (expanded) latest charge's `created`. */
  const chargeTime = (charge: unknown): string | null =>
    typeof charge === 'object' && charge !== null
      ? unixSecondsTime((charge as Json)['created'])
      : null;

  const findIntent = async (
    paymentId: string,
    signal: AbortSignal,
  ): Promise<ChannelCallResult<Json>> => {
    const query = encodeURIComponent(`metadata['paymentId']:'${paymentId}'`);
    const answer = await request(
      'GET',
      `/v1/payment_intents/search?query=${query}&expand[]=data.latest_charge`,
      null,
      null,
      signal,
    );
    if (!answer.ok) return answer;
    const found = Array.isArray(answer.value['data'])
      ? (answer.value['data'][0] as Json | undefined)
      : undefined;
    return found === undefined
      ? { ok: false, kind: 'permanent', reason: 'no payment intent for this payment' }
      : { ok: true, value: found };
  };

  return {
    channel: 'stripe',
    createOrder: async (order, signal) => {
      const form = {
        amount: order.amountMinor.toString(),
        currency: order.currency.toLowerCase(),
        description: order.subject,
        'metadata[paymentId]': order.paymentId,
      };
      const answer = await request(
        'POST',
        '/v1/payment_intents',
        form,
        `create-${order.paymentId}`,
        signal,
      );
      if (!answer.ok) return answer;
      return {
        ok: true,
        value: {
          payerParameters: {
            clientSecret: String(answer.value['client_secret'] ?? ''),
            paymentIntentId: String(answer.value['id'] ?? ''),
          },
        },
      };
    },
    queryOrder: async (paymentId, signal) => {
      const intent = await findIntent(paymentId, signal);
      if (!intent.ok) return intent;
      const status = INTENT_STATES[String(intent.value['status'])] ?? 'failed';
      const paid = status === 'succeeded' && typeof intent.value['amount_received'] === 'number';
      return {
        ok: true,
        value: {
          status,
          channelTransactionId: String(intent.value['id']),
          amountMinor: paid ? (intent.value['amount_received'] as number) : null,
          currency: paid ? String(intent.value['currency']).toUpperCase() : null,
          paidAt: paid ? chargeTime(intent.value['latest_charge']) : null,
        },
      };
    },
    closeOrder: async (paymentId, signal) => {
      const intent = await findIntent(paymentId, signal);
      if (!intent.ok) return intent;
      const answer = await request(
        'POST',
        `/v1/payment_intents/${encodeURIComponent(String(intent.value['id']))}/cancel`,
        {},
        `close-${paymentId}`,
        signal,
      );
      return answer.ok ? { ok: true, value: { closed: true } } : answer;
    },
    queryRefund: async (query, signal) => {
      const path = `/v1/refunds?payment_intent=${encodeURIComponent(query.channelTransactionId)}&limit=100`;
      const answer = await request('GET', path, null, null, signal);
      if (!answer.ok) return answer;
      const refunds = Array.isArray(answer.value['data']) ? (answer.value['data'] as Json[]) : [];
      const found = refunds.find(
        (refund) => ((refund['metadata'] ?? {}) as Json)['refundId'] === query.refundId,
      );
      if (found === undefined) return { ok: true, value: { status: 'unknown' } };
      const status = String(found['status']);
      if (status === 'succeeded')
        return { ok: true, value: { status, channelRefundId: String(found['id']) } };
      if (status === 'failed' || status === 'canceled')
        return {
          ok: true,
          value: {
            status: 'failed',
            failureReason: `refund ${status}: ${String(found['failure_reason'] ?? 'unknown')}`,
          },
        };
      return { ok: true, value: { status: 'pending' } };
    },
    refund: async (refund, signal) => {
      const form = {
        payment_intent: refund.channelTransactionId,
        amount: refund.amountMinor.toString(),
        'metadata[paymentId]': refund.paymentId,
        'metadata[refundId]': refund.refundId,
      };
      const answer = await request(
        'POST',
        '/v1/refunds',
        form,
        `refund-${refund.paymentId}-${refund.refundId}`,
        signal,
      );
      if (!answer.ok) return answer;
      if (answer.value['status'] === 'failed' || answer.value['status'] === 'canceled')
        return { ok: false, kind: 'permanent', reason: `refund ${String(answer.value['status'])}` };
      return {
        ok: true,
        value: {
          status: answer.value['status'] === 'succeeded' ? 'succeeded' : 'accepted',
          channelRefundId: String(answer.value['id'] ?? ''),
        },
      };
    },
  };
};
