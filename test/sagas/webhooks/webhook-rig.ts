import { createSqliteWebhookStore } from '../../../adapters/webhooks/sqlite.webhook-store';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import { paymentAggregate } from '../../../domain/payment/payment.decider';
import type { WebhookSender, WebhookSendResult } from '../../../domain/ports/webhook-sender.port';
import type { WebhookEndpoint, WebhookStore } from '../../../domain/ports/webhook-store.port';
import type { WebhookEventType } from '../../../domain/webhook/webhook.model';
import { createWebhookDelivery } from '../../../sagas/webhooks/webhook-delivery';
import { createWebhookFanout } from '../../../sagas/webhooks/webhook-fanout';
import { createLedger, testContext } from '../../support/ledger-harness';

export const HOUR_MS = 3600 * 1000;
export const DAY_MS = 24 * HOUR_MS;

type SentRequest = { url: string; headers: Readonly<Record<string, string>>; body: string };

/**
 * The fan-out and the delivery worker over an in-memory log, a SQLite :memory: webhook store, a
 * scripted sender and a clock the test moves. The worker is driven by `deliver()` (one scan and
 * every attempt it starts), never by its timer.
 */
export const startWebhookRig = async (
  options: { disableAfterMs?: number; answer?: (request: SentRequest) => WebhookSendResult } = {},
) => {
  const ledger = createLedger();
  const webhooks: WebhookStore = createSqliteWebhookStore(openSqliteDatabase(':memory:'));
  const sent: SentRequest[] = [];
  let nowMs = Date.parse('2026-01-01T00:00:00Z');
  let answer = options.answer ?? (() => ({ ok: true, httpStatus: 200 }) as WebhookSendResult);
  const sender: WebhookSender = {
    refusal: () => Promise.resolve(null),
    send: (request) => {
      sent.push(request);
      return Promise.resolve(answer(request));
    },
  };
  const warnings: string[] = [];
  const delivery = createWebhookDelivery({
    webhooks,
    sender,
    runtime: ledger.runtime,
    policy: { retryBaseMs: 60_000, retryDelayMsMax: 6 * HOUR_MS, retryWindowMs: 3 * DAY_MS },
    concurrencyMax: 4,
    disableAfterMs: options.disableAfterMs ?? 5 * DAY_MS,
    tickMs: 60_000,
    clock: () => nowMs,
    random: () => 0.5,
    onAttempt: () => undefined,
    onWarning: (what) => warnings.push(what),
  });
  let enqueued = 0;
  let paymentStreamReads = 0;
  const fanout = createWebhookFanout({
    store: {
      ...ledger.store,
      readStream: (stream, readOptions) => {
        if (stream.startsWith('payment-')) paymentStreamReads += 1;
        return ledger.store.readStream(stream, readOptions);
      },
    },
    webhooks,
    clock: () => nowMs,
    newId: () => crypto.randomUUID(),
    endpointCountMax: 16,
    checkpointIntervalMs: 0,
    retryPauseMs: 10,
    paymentStateCountMax: 4,
    onWarning: (what) => warnings.push(what),
    onEnqueued: () => (enqueued += 1),
  });
  await fanout.start();

  const addEndpoint = async (
    overrides: Partial<WebhookEndpoint> & { eventTypes: readonly WebhookEventType[] },
  ): Promise<WebhookEndpoint> => {
    const endpoint: WebhookEndpoint = {
      endpointId: crypto.randomUUID(),
      kind: 'endpoint',
      merchantId: 'merchant',
      // The rig's payments are on the sandbox: test mode.
      mode: 'test',
      url: 'https://receiver.example/hooks',
      description: '',
      enabled: true,
      secret: 'whsec_current',
      previousSecret: null,
      failingSinceMs: null,
      createdAtMs: nowMs,
      ...overrides,
    };
    await webhooks.createEndpoint(endpoint);
    return endpoint;
  };

  /**
   * A sandbox payment of 1,000 EUR minor units, created and then paid, as the log records it
   * (recorded without a mode unless given: a sandbox payment then reads as test). `recovered`:
   * found paid by a query at the channel, as the expiry saga or a close applies it.
   */
  const payPayment = async (
    paymentId: string,
    options: { notifyUrl?: string; recovered?: boolean; mode?: 'test' | 'live' } = {},
  ): Promise<void> => {
    const { notifyUrl, recovered = false, mode } = options;
    const now = new Date(nowMs).toISOString();
    const terms = {
      paymentId,
      merchantId: 'merchant',
      merchantOrderNo: `order-${paymentId}`,
      amountMinor: 1000,
      currency: 'EUR',
      channel: 'sandbox' as const,
      subject: 'test',
      creditAccountId: 'wallet',
      expiresAt: new Date(nowMs + HOUR_MS).toISOString(),
      ...(notifyUrl === undefined ? {} : { notifyUrl }),
      ...(mode === undefined ? {} : { mode }),
    };
    const context = testContext({ now });
    await ledger.runtime.execute(
      paymentAggregate,
      paymentId,
      { type: 'CreatePayment', data: { ...terms, now } },
      context,
    );
    await ledger.runtime.execute(
      paymentAggregate,
      paymentId,
      {
        type: 'RecordChannelResult',
        data: {
          outcome: 'succeeded',
          channelTransactionId: `tx-${paymentId}`,
          amountMinor: 1000,
          currency: 'EUR',
          ...(recovered ? { recovered: true } : {}),
          now,
        },
      },
      context,
    );
  };

  return {
    ledger,
    /** Reads of a payment stream by the fan-out (a kept state makes them unnecessary). */
    paymentStreamReads: () => paymentStreamReads,
    webhooks,
    sent,
    warnings,
    enqueuedCount: () => enqueued,
    addEndpoint,
    payPayment,
    setAnswer: (next: (request: SentRequest) => WebhookSendResult) => (answer = next),
    advance: (ms: number) => (nowMs += ms),
    nowMs: () => nowMs,
    deliver: async () => {
      delivery.wake();
      await delivery.settled();
    },
    stop: async () => {
      await fanout.stop();
      await delivery.stop();
    },
  };
};
