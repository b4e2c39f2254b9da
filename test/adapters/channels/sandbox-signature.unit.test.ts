import { createSandboxChannel } from '../../../adapters/channels/sandbox.gateway';
import { createSqliteSandboxStore } from '../../../adapters/channels/sqlite.sandbox-store';
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
