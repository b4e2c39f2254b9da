import type { ActorRuntime } from '../../domain/actors/actor-runtime';
import type { WebhookSender } from '../../domain/ports/webhook-sender.port';
import type {
  WebhookDelivery,
  WebhookEndpoint,
  WebhookStore,
} from '../../domain/ports/webhook-store.port';
import { webhookNoticeAggregate } from '../../domain/webhook/webhook-notice.decider';
import {
  merchantSecretIdOf,
  nextAttemptAtMs,
  signWebhook,
  type RetryPolicy,
} from '../../domain/webhook/webhook.model';

/**
 * Sends the stored deliveries that are due, at most concurrencyMax at once, each bounded by the
 * sender's timeout. Every attempt is recorded with its consequence (done, next attempt with
 * back-off, or failed after the retry window). A delivery is pending until an attempt succeeded,
 * so one cut short by a crash is sent again after the restart: at least once. An endpoint failing
 * for disableAfterMs is disabled and the notice appended to the log (and so sent as a
 * `webhook_endpoint.disabled` event to the merchant's other endpoints).
 */
type WebhookDeliveryOptions = {
  webhooks: WebhookStore;
  sender: WebhookSender;
  runtime: ActorRuntime;
  policy: RetryPolicy;
  concurrencyMax: number;
  disableAfterMs: number;
  tickMs: number;
  clock: () => number;
  random: () => number;
  onAttempt: (outcome: 'succeeded' | 'retry' | 'failed') => void;
  onWarning: (what: string, fields: Record<string, unknown>) => void;
};

const NOTICE_ACTOR = { clientId: 'system:webhooks', role: 'system', ip: null };

/** The secrets valid now: the current one, and the previous one until its expiry. */
const validSecrets = (endpoint: WebhookEndpoint, nowMs: number): string[] =>
  endpoint.previousSecret !== null && endpoint.previousSecret.expiresAtMs > nowMs
    ? [endpoint.secret, endpoint.previousSecret.secret]
    : [endpoint.secret];

export const createWebhookDelivery = (options: WebhookDeliveryOptions) => {
  const inFlight = new Map<string, Promise<void>>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let scanning: Promise<void> | null = null;

  const disableIfFailingTooLong = async (endpointId: string, nowMs: number): Promise<void> => {
    const endpoint = await options.webhooks.findEndpoint(endpointId);
    const since = endpoint?.failingSinceMs ?? null;
    if (endpoint?.kind !== 'endpoint' || !endpoint.enabled || since === null) return;
    if (nowMs - since < options.disableAfterMs) return;
    const now = new Date(nowMs).toISOString();
    const failingSince = new Date(since).toISOString();
    // The notice first: a crash between the two notices again on the next failure, never loses it.
    await options.runtime.execute(
      webhookNoticeAggregate,
      endpointId,
      {
        type: 'DisableWebhookEndpoint',
        data: {
          endpointId,
          merchantId: endpoint.merchantId,
          mode: endpoint.mode,
          url: endpoint.url,
          failingSince,
          now,
        },
      },
      {
        correlationId: `webhook-disable:${endpointId}`,
        causationId: null,
        actor: NOTICE_ACTOR,
        idempotencyKey: null,
        now,
        eventIdSeed: `webhook-disable:${endpointId}:${failingSince}`,
      },
    );
    if (await options.webhooks.disableEndpoint(endpointId))
      options.onWarning('webhook_endpoint_disabled', { endpointId, failingSince });
  };

  /** A payment's notifyUrl is signed with its merchant's secret, an endpoint with its own. */
  const signingSecrets = async (endpoint: WebhookEndpoint, nowMs: number): Promise<string[]> => {
    if (endpoint.kind !== 'notify') return validSecrets(endpoint, nowMs);
    const merchant = await options.webhooks.findEndpoint(merchantSecretIdOf(endpoint.merchantId));
    return merchant === null ? [] : validSecrets(merchant, nowMs);
  };

  const attempt = async (delivery: WebhookDelivery): Promise<void> => {
    const endpoint = await options.webhooks.findEndpoint(delivery.endpointId);
    if (endpoint === null) return;
    const startedMs = options.clock();
    const secrets = await signingSecrets(endpoint, startedMs);
    const timestampS = Math.floor(startedMs / 1000);
    const result = await options.sender.send({
      url: endpoint.url,
      body: delivery.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'ledger-webhooks/1',
        'webhook-id': delivery.eventId,
        'webhook-signature': signWebhook(secrets, timestampS, delivery.body),
      },
    });
    const endedMs = options.clock();
    const failed = { ...delivery, failedAttemptCount: delivery.failedAttemptCount + 1 };
    const nextAtMs = result.ok
      ? null
      : nextAttemptAtMs(options.policy, failed, endedMs, options.random());
    await options.webhooks.recordAttempt(
      {
        deliveryId: delivery.deliveryId,
        attemptedAtMs: startedMs,
        durationMs: endedMs - startedMs,
        httpStatus: result.httpStatus,
        error: result.ok ? null : result.error,
      },
      nextAtMs,
    );
    options.onAttempt(result.ok ? 'succeeded' : nextAtMs === null ? 'failed' : 'retry');
    if (!result.ok) await disableIfFailingTooLong(endpoint.endpointId, endedMs);
  };

  const launch = (delivery: WebhookDelivery): void => {
    const running = attempt(delivery)
      .catch((error: unknown) =>
        options.onWarning('webhook_attempt_failed', {
          deliveryId: delivery.deliveryId,
          error: String(error),
        }),
      )
      .finally(() => {
        inFlight.delete(delivery.deliveryId);
        if (!stopped) wake();
      });
    inFlight.set(delivery.deliveryId, running);
  };

  /** Starts due deliveries into the free slots; resolves once they are launched, not sent. */
  const scan = async (): Promise<void> => {
    const free = options.concurrencyMax - inFlight.size;
    if (stopped || free <= 0) return;
    const excluded = new Set(inFlight.keys());
    const due = await options.webhooks.dueDeliveries(options.clock(), free, excluded);
    for (const delivery of due) launch(delivery);
  };

  const wake = (): void => {
    if (scanning !== null) return;
    scanning = scan()
      .catch((error: unknown) => options.onWarning('webhook_scan_failed', { error: String(error) }))
      .finally(() => (scanning = null));
  };

  return {
    start(): void {
      timer = setInterval(wake, options.tickMs);
      timer.unref();
      wake();
    },
    wake,
    /** Resolves once every attempt started so far has been recorded (tests). */
    settled: async (): Promise<void> => {
      await scanning;
      await Promise.all(inFlight.values());
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer !== null) clearInterval(timer);
      await scanning;
      await Promise.all(inFlight.values());
    },
  };
};
