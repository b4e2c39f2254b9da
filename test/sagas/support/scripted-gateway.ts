import type { CheckpointStore } from '../../../domain/ports/checkpoint-store.port';
import type {
  ChannelCallResult,
  PaymentChannelGateway,
} from '../../../domain/ports/payment-channel.port';

/** What the scripted channel answers to its n-th refund call (1-based). */
type RefundScript = (
  callNumber: number,
) => { ok: true } | { ok: false; kind: 'transient' | 'permanent' };

export type ScriptedGateway = PaymentChannelGateway & {
  refundCalls: () => number;
  closeCalls: () => number;
};

/** A channel whose refund answers follow a script, e.g. "fails three times then succeeds". */
export const scriptedGateway = (channel: string, script: RefundScript): ScriptedGateway => {
  let refundCalls = 0;
  let closeCalls = 0;
  const failure = (kind: 'transient' | 'permanent'): ChannelCallResult<never> => ({
    ok: false,
    kind,
    reason: `scripted_${kind}`,
  });
  return {
    channel,
    createOrder: () => Promise.resolve({ ok: true, value: { payerParameters: {} } }),
    queryOrder: () => Promise.resolve(failure('permanent')),
    closeOrder: () => {
      closeCalls += 1;
      return Promise.resolve({ ok: true, value: { closed: true } });
    },
    refund: (request) => {
      refundCalls += 1;
      const answer = script(refundCalls);
      if (!answer.ok) return Promise.resolve(failure(answer.kind));
      return Promise.resolve({
        ok: true,
        value: { status: 'succeeded', channelRefundId: `ch-${request.refundId}` },
      });
    },
    queryRefund: () => Promise.resolve({ ok: true, value: { status: 'unknown' } }),
    refundCalls: () => refundCalls,
    closeCalls: () => closeCalls,
  };
};

export const failsThenSucceeds =
  (failureCount: number): RefundScript =>
  (call) =>
    call <= failureCount ? { ok: false, kind: 'transient' } : { ok: true };
export const alwaysFails: RefundScript = () => ({ ok: false, kind: 'transient' });

/** Checkpoints in memory, for tests that do not restart the process. */
export const createStandaloneCheckpointStore = (): CheckpointStore => {
  const saved = new Map<string, bigint>();
  return {
    load: (name) => Promise.resolve(saved.get(name) ?? null),
    save: (name, position) => {
      saved.set(name, position);
      return Promise.resolve();
    },
  };
};
