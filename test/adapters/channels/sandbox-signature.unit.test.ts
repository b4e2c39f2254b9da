import { createSandboxChannel } from '../../../adapters/channels/sandbox.gateway';
import { createSqliteSandboxStore } from '../../../adapters/channels/sqlite.sandbox-store';
import {
  matchesAnySecret,
  parseSignatureHeader,
  signTimestampedHmac,
} from '../../../adapters/channels/timestamped-hmac';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import { stripeSdk } from './channel-fixtures';

/** The sandbox signs its callbacks with Stripe's scheme: the stripe package must accept them. */
describe('sandbox callback signatures', () => {
  it("verify with the stripe package's constructEvent, and a tampered body does not", async () => {
    const paymentId = '0191e7a8-0000-7000-8000-000000000001';
    const delivered: { rawBody: Buffer; signature: string }[] = [];
    const channel = createSandboxChannel({
      secret: 'sandbox-secret',
      store: createSqliteSandboxStore(openSqliteDatabase(':memory:')),
      nowMs: Date.now,
      deliver: (rawBody, signature) => {
        delivered.push({ rawBody, signature });
        return Promise.resolve(200);
      },
      paidElsewhere: (id) =>
        id === paymentId
          ? {
              paymentId,
              channelTransactionId: 'tx-1',
              status: 'succeeded',
              amountMinor: 1000,
              currency: 'EUR',
              occurredAt: new Date().toISOString(),
            }
          : undefined,
    });
    await channel.gateway.refund(
      {
        paymentId,
        refundId: 'r1',
        amountMinor: 100,
        currency: 'EUR',
        channelTransactionId: 'tx-1',
      },
      new AbortController().signal,
    );
    await channel.flush();
    expect(delivered).toHaveLength(1);
    const [{ rawBody, signature }] = delivered as [{ rawBody: Buffer; signature: string }];
    expect(stripeSdk.webhooks.constructEvent(rawBody, signature, 'sandbox-secret')).toMatchObject({
      event: 'refund.succeeded',
      paymentId,
    });
    const tampered = Buffer.from(rawBody.toString().replace('"r1"', '"r2"'));
    expect(() => stripeSdk.webhooks.constructEvent(tampered, signature, 'sandbox-secret')).toThrow(
      stripeSdk.errors.StripeSignatureVerificationError,
    );
  });
});

describe('the timestamped HMAC header (sandbox and Stripe)', () => {
  const rawBody = Buffer.from('{"event":"payment.succeeded"}');
  const nowMs = Date.parse('2026-12-07T03:00:00Z');
  const signed = signTimestampedHmac('secret-b', rawBody, nowMs);
  const v1 = signed.slice(signed.indexOf('v1=') + 3);
  const other = 'a'.repeat(64);

  it('reads the timestamp and every well-formed v1 value, in one pass, and matches any secret', () => {
    const parsed = parseSignatureHeader(` t=${nowMs / 1000} , v1=${other},v0=zz, v1=${v1} ,v1=XYZ`);
    expect(parsed).toEqual({ timestampSeconds: String(nowMs / 1000), signatures: [other, v1] });
    expect(parsed !== null && matchesAnySecret(parsed, ['secret-a', 'secret-b'], rawBody)).toBe(
      true,
    );
    expect(parsed !== null && matchesAnySecret(parsed, ['secret-a'], rawBody)).toBe(false);
    const tampered = Buffer.from('{"event":"payment.failed"}');
    expect(parsed !== null && matchesAnySecret(parsed, ['secret-b'], tampered)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['no timestamp', `v1=${v1}`],
    ['two timestamps', `t=1,t=2,v1=${v1}`],
    ['a timestamp without a value', `t,v1=${v1}`],
    ['a timestamp that is no number', `t=12a,v1=${v1}`],
    ['no v1 value', 't=1'],
    ['only malformed v1 values', `t=1,v1=${v1.toUpperCase()},v1`],
    ['oversized', `t=1,v1=${v1},${'x'.repeat(1024)}`],
  ])('refuses a header with %s', (_, header) => {
    expect(parseSignatureHeader(header)).toBeNull();
  });

  it('takes a value up to a second "=", as the split it replaced did', () => {
    expect(parseSignatureHeader(`t=12=3,v1=${v1}=tail`)).toEqual({
      timestampSeconds: '12',
      signatures: [v1],
    });
  });
});
