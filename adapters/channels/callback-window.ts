import type { CallbackRefusal, VerifyResult } from '../../domain/ports/channel-callback.port';

/** A callback signed longer ago than this is stale: a captured one cannot be replayed later. */
const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;
/** A timestamp this far in the future is still accepted: the channel's clock may run ahead. */
const SIGNATURE_SKEW_MS = 60 * 1000;

export const isWithinWindow = (signedAtMs: number, nowMs: number): boolean =>
  nowMs - signedAtMs <= SIGNATURE_TOLERANCE_MS && signedAtMs - nowMs <= SIGNATURE_SKEW_MS;

export const refuse = (refusal: CallbackRefusal, detail: string): VerifyResult => ({
  ok: false,
  refusal,
  detail,
});

export const STALE: VerifyResult = refuse(
  'stale_signature',
  'timestamp outside the accepted window',
);
