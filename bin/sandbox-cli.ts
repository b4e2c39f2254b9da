import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  signSandboxCallback,
  type SandboxCallbackBody,
} from '../adapters/channels/sandbox.channel';
import { appendSandboxJournal } from '../adapters/channels/sandbox.journal';
import { ADMIN_KEY_FILE_NAME } from '../adapters/clients/bootstrap-admin';
import type { Config } from './config';
import { sandboxSecret } from './secrets';

/**
 * Plays the sandbox payment channel against a running service: builds a callback, signs it with
 * the sandbox secret of the data dir, and posts it, the way a real channel would.
 */
type PaymentSummary = { amountMinor: number; currency: string };

/** The running service's base URL: `--url`, else HOST and PORT. */
export const serviceUrl = (config: Config, url: string | undefined): string =>
  url ?? `http://${config.host}:${config.port}`;

/** ADMIN_API_KEY, else the key the service generated into DATA_DIR. */
export const adminKeyOf = (config: Config): string =>
  config.adminApiKey ?? readFileSync(join(config.dataDir, ADMIN_KEY_FILE_NAME), 'utf8').trim();

const fetchPayment = async (
  baseUrl: string,
  config: Config,
  paymentId: string,
): Promise<PaymentSummary> => {
  const response = await fetch(`${baseUrl}/v1/payments/${paymentId}`, {
    headers: { authorization: `Bearer ${adminKeyOf(config)}` },
  });
  const envelope = (await response.json()) as {
    code: number;
    msg: string;
    data: { payment: PaymentSummary } | null;
  };
  if (envelope.code !== 0 || envelope.data === null)
    throw new Error(`payment ${paymentId}: ${envelope.msg}`);
  return envelope.data.payment;
};

const postSandboxCallback = async (
  config: Config,
  baseUrl: string | undefined,
  body: SandboxCallbackBody,
): Promise<{ status: number; body: unknown }> => {
  const raw = Buffer.from(JSON.stringify(body));
  const signature = signSandboxCallback(
    sandboxSecret(config.dataDir, config.sandboxCallbackSecret),
    raw,
    Date.now(),
  );
  const response = await fetch(`${serviceUrl(config, baseUrl)}/v1/channels/sandbox/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sandbox-signature': signature },
    body: raw,
  });
  return { status: response.status, body: await response.json() };
};

/**
 * The payer pays at the service's own sandbox (its books), which then "loses" the success
 * callback: only a query at the channel (the expiry saga, a close) finds the payment paid.
 */
const payLosingNotification = async (
  config: Config,
  baseUrl: string | undefined,
  paymentId: string,
): Promise<{ status: number; body: unknown }> => {
  const response = await fetch(
    `${serviceUrl(config, baseUrl)}/v1/sandbox/orders/${paymentId}/pay`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${adminKeyOf(config)}`,
        'content-type': 'application/json',
        'idempotency-key': `sandbox-pay-lost-${paymentId}`,
      },
      body: JSON.stringify({ loseNotification: true }),
    },
  );
  return { status: response.status, body: await response.json() };
};

export const sandboxPay = async (
  config: Config,
  paymentId: string,
  options: {
    url?: string;
    amountMinor?: number;
    currency?: string;
    transactionId?: string;
    fail?: boolean;
    loseNotification?: boolean;
  },
) => {
  if (options.loseNotification === true)
    return payLosingNotification(config, options.url, paymentId);
  const channelTransactionId =
    options.transactionId ?? `sandbox-${paymentId.slice(0, 8)}-${Date.now()}`;
  if (options.fail === true) {
    return postSandboxCallback(config, options.url, {
      event: 'payment.failed',
      paymentId,
      channelTransactionId,
      failureReason: 'declined by sandbox',
    });
  }
  const payment = await fetchPayment(serviceUrl(config, options.url), config, paymentId);
  const amountMinor = options.amountMinor ?? payment.amountMinor;
  const currency = options.currency ?? payment.currency;
  // The channel took the money whatever the service answers: its statement will say so.
  appendSandboxJournal(config.dataDir, {
    paymentId,
    channelTransactionId,
    status: 'succeeded',
    amountMinor,
    currency,
    occurredAt: new Date().toISOString(),
  });
  return postSandboxCallback(config, options.url, {
    event: 'payment.succeeded',
    paymentId,
    channelTransactionId,
    amountMinor,
    currency,
  });
};

export const sandboxRefund = (
  config: Config,
  paymentId: string,
  refundId: string,
  options: { url?: string; fail?: boolean },
) =>
  postSandboxCallback(
    config,
    options.url,
    options.fail === true
      ? { event: 'refund.failed', paymentId, refundId, failureReason: 'refused by sandbox' }
      : {
          event: 'refund.succeeded',
          paymentId,
          refundId,
          channelRefundId: `sandbox-refund-${refundId}`,
        },
  );
