import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { signSandboxCallback } from '../../adapters/channels/sandbox.channel';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { startChannels } from '../../bin/channels';
import { createLogger } from '../../bin/logger';
import { createLedger } from '../support/ledger-harness';

describe('startChannels', () => {
  it('builds the sandbox always and each configured channel, logging no secret', async () => {
    const chunks: string[] = [];
    const logger = createLogger('info', {
      stream: new Writable({
        write: (chunk: Buffer, _encoding, callback) => callback(void chunks.push(chunk.toString())),
      }),
    });
    const store = createInMemoryEventStore();
    const { runtime } = createLedger(store);
    const channels = startChannels({
      channelConfig: {
        wechat: {
          apiVersion: 'v2',
          appId: 'wx',
          mchId: 'm',
          baseUrl: 'http://127.0.0.1:9',
          notifyUrl: 'n',
          v2: {
            apiKey: 'SECRET-API-KEY-0123456789abcdefg',
            signType: 'MD5',
            clientCertificate: null,
          },
          v3: null,
        },
        alipay: null,
        stripe: {
          secretKey: null,
          webhookSecrets: ['whsec_SECRET'],
          baseUrl: 'http://127.0.0.1:9',
        },
        sandboxFailRefunds: false,
        sandboxEnabled: true,
      },
      dataDir: mkdtempSync(join(tmpdir(), 'ledger-channels-')),
      sandboxSecret: 'sandbox-secret-value',
      serviceUrl: 'http://127.0.0.1:9',
      database: openSqliteDatabase(':memory:'),
      eventStore: store,
      runtime,
      logger,
      nowMs: Date.now,
    });
    try {
      expect(channels.verifiers.map((verifier) => verifier.channel)).toEqual([
        'sandbox',
        'wechat',
        'stripe',
      ]);
      expect([...channels.services.gateways.keys()]).toEqual(['sandbox', 'wechat']);
      const created = await channels.services.gateways.get('sandbox')?.createOrder({
        paymentId: 'p-1',
        merchantOrderNo: 'o',
        amountMinor: 1,
        currency: 'EUR',
        subject: 's',
        expiresAt: '2030-01-01T00:00:00Z',
      });
      expect(created).toEqual({
        ok: true,
        value: { payerParameters: { payUrl: 'sandbox://pay/p-1' } },
      });
      const log = await store.readStream('channellog-p-1', {
        fromRevision: 0,
        direction: 'forwards',
        eventCountMax: 5,
      });
      expect(log.map((event) => event.data['operation'])).toEqual(['create_order']);
      expect(chunks.join('')).not.toMatch(/SECRET|sandbox-secret-value/);
    } finally {
      channels.stop();
    }
  });

  it('lets the sandbox refund a payment paid by a self-signed sandbox callback', async () => {
    const store = createInMemoryEventStore();
    const { runtime } = createLedger(store);
    const channels = startChannels({
      channelConfig: {
        wechat: null,
        alipay: null,
        stripe: null,
        sandboxFailRefunds: false,
        sandboxEnabled: true,
      },
      dataDir: mkdtempSync(join(tmpdir(), 'ledger-channels-')),
      sandboxSecret: 'sandbox-secret-value',
      serviceUrl: 'http://127.0.0.1:9',
      database: openSqliteDatabase(':memory:'),
      eventStore: store,
      runtime,
      logger: createLogger('error'),
      nowMs: Date.now,
    });
    try {
      const paymentId = '0191e7a8-0000-7000-8000-00000000000a';
      const sandbox = channels.services.gateways.get('sandbox');
      const refund = {
        paymentId,
        refundId: 'r1',
        amountMinor: 300,
        currency: 'EUR',
        channelTransactionId: 'by-hand-1',
      };
      await expect(sandbox?.refund(refund)).resolves.toMatchObject({
        ok: false,
        reason: 'order not paid',
      });
      const raw = Buffer.from(
        JSON.stringify({
          event: 'payment.succeeded',
          paymentId,
          channelTransactionId: 'by-hand-1',
          amountMinor: 1000,
          currency: 'EUR',
        }),
      );
      const headers = {
        'sandbox-signature': signSandboxCallback('sandbox-secret-value', raw, Date.now()),
      };
      const verifier = channels.verifiers.find((candidate) => candidate.channel === 'sandbox');
      expect(verifier?.verify(raw, headers, Date.now())).toMatchObject({ ok: true });
      await expect(sandbox?.refund(refund)).resolves.toEqual({
        ok: true,
        value: { status: 'accepted', channelRefundId: null },
      });
      await expect(sandbox?.queryRefund(refund)).resolves.toEqual({
        ok: true,
        value: { status: 'succeeded', channelRefundId: 'sandbox-refund-r1' },
      });
    } finally {
      channels.stop();
    }
  });
});
