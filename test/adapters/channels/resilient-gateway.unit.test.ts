import {
  createResilientGateway,
  type RawChannelGateway,
} from '../../../adapters/channels/resilient-gateway';
import type { ChannelCallRecorded } from '../../../domain/payment/channel-log.decider';
import type { ChannelCallResult } from '../../../domain/ports/payment-channel.port';

const options = {
  timeoutMs: 50,
  retryCountMax: 3,
  backoffInitialMs: 1,
  backoffMaxMs: 2,
  breakerFailureCountMax: 8,
  breakerHalfOpenAfterMs: 60_000,
};
const order = {
  paymentId: 'p-1',
  merchantOrderNo: 'o-1',
  amountMinor: 100,
  currency: 'CNY',
  subject: 's',
  expiresAt: '2030-01-01T00:00:00Z',
};
type Answer = ChannelCallResult<{ payerParameters: Record<string, string> }> | 'hang' | 'throw';

/** A raw gateway whose createOrder answers from a script, one entry per attempt. */
const scripted = (answers: Answer[]) => {
  let calls = 0;
  const raw: RawChannelGateway = {
    channel: 'test',
    createOrder: async (_order, signal) => {
      const answer = answers[Math.min(calls, answers.length - 1)] ?? 'throw';
      calls += 1;
      if (answer === 'throw') throw new Error('bug in the adapter');
      if (answer === 'hang')
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      return answer;
    },
    queryOrder: async () => ({ ok: false, kind: 'permanent', reason: 'unused' }),
    closeOrder: async () => ({ ok: true, value: { closed: true } }),
    refund: async () => ({ ok: true, value: { status: 'accepted', channelRefundId: null } }),
    queryRefund: async () => ({ ok: true, value: { status: 'unknown' } }),
  };
  const recorded: ChannelCallRecorded[] = [];
  const gateway = createResilientGateway(
    raw,
    options,
    async (fact) => void recorded.push(fact),
    () => 0,
  );
  return { gateway, recorded, calls: () => calls };
};

const transient = { ok: false, kind: 'transient', reason: 'HTTP 503' } as const;
const success = { ok: true, value: { payerParameters: { codeUrl: 'weixin://x' } } } as const;

describe('resilient channel gateway', () => {
  it('retries transient failures with back-off and records one outcome with the attempt count', async () => {
    const { gateway, recorded, calls } = scripted([transient, transient, transient, success]);
    await expect(gateway.createOrder(order)).resolves.toEqual(success);
    expect(calls()).toBe(4);
    expect(recorded).toEqual([
      expect.objectContaining({
        channel: 'test',
        operation: 'create_order',
        paymentId: 'p-1',
        outcome: 'succeeded',
        attemptCount: 4,
      }),
    ]);
  });

  it('gives up after 3 retries and answers transient', async () => {
    const { gateway, recorded, calls } = scripted([transient]);
    await expect(gateway.createOrder(order)).resolves.toEqual({
      ok: false,
      kind: 'transient',
      reason: 'HTTP 503',
    });
    expect([calls(), recorded[0]?.outcome]).toEqual([4, 'transient']);
  });

  it('never retries a permanent refusal', async () => {
    const { gateway, recorded, calls } = scripted([
      { ok: false, kind: 'permanent', reason: 'ORDERPAID' },
    ]);
    await expect(gateway.createOrder(order)).resolves.toMatchObject({ kind: 'permanent' });
    expect([calls(), recorded[0]?.reason]).toEqual([1, 'ORDERPAID']);
  });

  it('times out an attempt that hangs after timeoutMs, not before, and retries it', async () => {
    jest.useFakeTimers(); // The timeout runs on the test's time, not the wall clock's.
    try {
      const { gateway, calls } = scripted(['hang', success]);
      const answer = gateway.createOrder(order);
      await jest.advanceTimersByTimeAsync(options.timeoutMs - 1);
      expect(calls()).toBe(1);
      await jest.advanceTimersByTimeAsync(1 + options.backoffMaxMs);
      await expect(answer).resolves.toEqual(success);
      expect(calls()).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('opens the breaker after consecutive transient failures and then fails fast', async () => {
    const { gateway, recorded, calls } = scripted([transient]);
    await gateway.createOrder(order); // 4 failures
    await gateway.createOrder(order); // 4 more: the breaker opens at 8
    const callsWhenOpen = calls();
    await expect(gateway.createOrder(order)).resolves.toEqual({
      ok: false,
      kind: 'transient',
      reason: 'circuit open: the channel failed repeatedly',
    });
    expect(calls()).toBe(callsWhenOpen);
    expect(recorded).toHaveLength(3);
  });

  it('lets an adapter bug through instead of calling it transient', async () => {
    const { gateway } = scripted(['throw']);
    await expect(gateway.createOrder(order)).rejects.toThrow('bug in the adapter');
  });
});
