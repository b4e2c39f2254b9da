import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleType,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import type {
  ChannelCallRecorded,
  ChannelOperation,
} from '../../domain/payment/channel-log.decider';
import type {
  ChannelCallResult,
  ChannelOrder,
  ChannelOrderStatus,
  ChannelRefundQuery,
  ChannelRefundRequest,
  ChannelRefundStatus,
  PaymentChannelGateway,
} from '../../domain/ports/payment-channel.port';
import { HttpTransportError } from './http-call';

/** A channel's API calls before resilience: each takes the signal of its attempt's timeout. */
export type RawChannelGateway = {
  readonly channel: string;
  createOrder(
    order: ChannelOrder,
    signal: AbortSignal,
  ): Promise<ChannelCallResult<{ payerParameters: Record<string, string> }>>;
  queryOrder(
    paymentId: string,
    signal: AbortSignal,
  ): Promise<ChannelCallResult<ChannelOrderStatus>>;
  closeOrder(paymentId: string, signal: AbortSignal): Promise<ChannelCallResult<{ closed: true }>>;
  refund(
    request: ChannelRefundRequest,
    signal: AbortSignal,
  ): Promise<
    ChannelCallResult<{ status: 'accepted' | 'succeeded'; channelRefundId: string | null }>
  >;
  queryRefund(
    query: ChannelRefundQuery,
    signal: AbortSignal,
  ): Promise<ChannelCallResult<ChannelRefundStatus>>;
};

export type ResilienceOptions = {
  /** Per attempt (default 5 s). */
  timeoutMs: number;
  /** Retries after the first attempt, for transient failures only (default 3). */
  retryCountMax: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Consecutive transient failures that open the breaker. */
  breakerFailureCountMax: number;
  breakerHalfOpenAfterMs: number;
};

export const DEFAULT_RESILIENCE: ResilienceOptions = {
  timeoutMs: 5000,
  retryCountMax: 3,
  backoffInitialMs: 200,
  backoffMaxMs: 2000,
  breakerFailureCountMax: 5,
  breakerHalfOpenAfterMs: 30_000,
};

export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';
const BREAKER_STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

/** Thrown inside the policy so that cockatiel retries and counts a transient failure. */
class TransientChannelError extends Error {
  override readonly name = 'TransientChannelError';
}

const transientReason = (error: unknown): string | null => {
  if (error instanceof BrokenCircuitError) return 'circuit open: the channel failed repeatedly';
  if (error instanceof TaskCancelledError) return 'timeout';
  if (error instanceof TransientChannelError || error instanceof HttpTransportError)
    return error.message;
  return null;
};

/**
 * Timeout per attempt, retries with exponential back-off on transient failures, and one circuit
 * breaker per gateway (so per channel). Every call's final outcome goes to `record`, and each
 * change of the breaker's state to `onBreakerState` (it starts closed).
 */
export const createResilientGateway = (
  raw: RawChannelGateway,
  options: ResilienceOptions,
  record: (fact: ChannelCallRecorded) => Promise<void>,
  nowMs: () => number,
  onBreakerState: (state: BreakerState) => void = () => undefined,
): PaymentChannelGateway => {
  const transient = handleType(TransientChannelError)
    .orType(HttpTransportError)
    .orType(TaskCancelledError);
  const breaker = circuitBreaker(transient, {
    halfOpenAfter: options.breakerHalfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakerFailureCountMax),
  });
  breaker.onStateChange((state) => onBreakerState(BREAKER_STATE_NAMES[state]));
  const policy = wrap(
    retry(transient, {
      maxAttempts: options.retryCountMax,
      backoff: new ExponentialBackoff({
        initialDelay: options.backoffInitialMs,
        maxDelay: options.backoffMaxMs,
      }),
    }),
    breaker,
    timeout(options.timeoutMs, TimeoutStrategy.Aggressive),
  );

  const call = async <Value>(
    operation: ChannelOperation,
    paymentId: string,
    refundId: string | null,
    run: (signal: AbortSignal) => Promise<ChannelCallResult<Value>>,
  ): Promise<ChannelCallResult<Value>> => {
    const startedMs = nowMs();
    let attemptCount = 0;
    let result: ChannelCallResult<Value>;
    try {
      // Each call gets its own parent signal: without one, cockatiel derives every attempt's signal
      // from one shared signal, whose listeners pile up across concurrent calls.
      result = await policy.execute(async ({ signal }) => {
        attemptCount += 1;
        const answer = await run(signal);
        if (!answer.ok && answer.kind === 'transient')
          throw new TransientChannelError(answer.reason);
        return answer;
      }, new AbortController().signal);
    } catch (error: unknown) {
      const reason = transientReason(error);
      if (reason === null) throw error;
      result = { ok: false, kind: 'transient', reason };
    }
    const outcome = result.ok ? 'succeeded' : result.kind;
    const reason = result.ok ? null : result.reason;
    await record({
      channel: raw.channel,
      operation,
      paymentId,
      refundId,
      outcome,
      reason,
      attemptCount,
      durationMs: nowMs() - startedMs,
    });
    return result;
  };

  return {
    channel: raw.channel,
    createOrder: (order) =>
      call('create_order', order.paymentId, null, (signal) => raw.createOrder(order, signal)),
    queryOrder: (paymentId) =>
      call('query_order', paymentId, null, (signal) => raw.queryOrder(paymentId, signal)),
    closeOrder: (paymentId) =>
      call('close_order', paymentId, null, (signal) => raw.closeOrder(paymentId, signal)),
    refund: (request) =>
      call('refund', request.paymentId, request.refundId, (signal) => raw.refund(request, signal)),
    queryRefund: (query) =>
      call('query_refund', query.paymentId, query.refundId, (signal) =>
        raw.queryRefund(query, signal),
      ),
  };
};
