import { createSandboxChannel } from '../../../adapters/channels/sandbox.gateway';
import { createSqliteSandboxStore } from '../../../adapters/channels/sqlite.sandbox-store';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import type { StatementRow } from '../../../domain/reconciliation/reconciliation';

const paymentId = '0191e7a8-0000-7000-8000-000000000001';
const refund = {
  paymentId,
  refundId: 'r1',
  amountMinor: 100,
  currency: 'EUR',
  channelTransactionId: 'tx-1',
};

const sandboxWith = (paidElsewhere: StatementRow | undefined, failRefunds = false) => {
  const delivered: unknown[] = [];
  const channel = createSandboxChannel({
    secret: 'sandbox-secret',
    store: createSqliteSandboxStore(openSqliteDatabase(':memory:')),
    nowMs: () => Date.parse('2026-11-22T10:00:00Z'),
    deliver: (rawBody) => {
      delivered.push(JSON.parse(rawBody.toString()));
      return Promise.resolve(200);
    },
    paidElsewhere: (id) => (id === paymentId ? paidElsewhere : undefined),
  });
  channel.setScript({ failRefunds });
  return { channel, delivered };
};

const paidByCli: StatementRow = {
  paymentId,
  channelTransactionId: 'tx-1',
  status: 'succeeded',
  amountMinor: 1000,
  currency: 'EUR',
  occurredAt: '2026-11-22T09:59:00Z',
};

describe('sandbox channel', () => {
  it('refunds a payment it took through the CLI, with a signed refund callback', async () => {
    const { channel, delivered } = sandboxWith(paidByCli);
    await expect(channel.gateway.refund(refund, new AbortController().signal)).resolves.toEqual({
      ok: true,
      value: { status: 'accepted', channelRefundId: null },
    });
    await channel.flush();
    expect(delivered).toEqual([
      {
        event: 'refund.succeeded',
        paymentId,
        refundId: 'r1',
        channelRefundId: 'sandbox-refund-r1',
      },
    ]);
  });

  it('answers a refund it was scripted to refuse with a refund.failed callback', async () => {
    const { channel, delivered } = sandboxWith(paidByCli, true);
    await channel.gateway.refund(refund, new AbortController().signal);
    await channel.flush();
    expect(delivered).toEqual([
      expect.objectContaining({ event: 'refund.failed', refundId: 'r1' }),
    ]);
  });

  it('refuses to refund a payment it never took', async () => {
    const { channel } = sandboxWith(undefined);
    await expect(channel.gateway.refund(refund, new AbortController().signal)).resolves.toEqual({
      ok: false,
      kind: 'permanent',
      reason: 'order not paid',
    });
  });

  it('reports a payment taken through the CLI as paid when queried', async () => {
    const { channel } = sandboxWith(paidByCli);
    await expect(
      channel.gateway.queryOrder(paymentId, new AbortController().signal),
    ).resolves.toEqual({
      ok: true,
      value: {
        status: 'succeeded',
        channelTransactionId: 'tx-1',
        amountMinor: 1000,
        currency: 'EUR',
      },
    });
  });
});
