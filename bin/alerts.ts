import type { Logger } from 'winston';
import { createWebhookAlertSink } from '../adapters/alerts/webhook.alert-sink';
import type { AlertSink } from '../domain/ports/alert.port';
import type { Config } from './config';

/** The service's alerts: posted to ALERT_WEBHOOK_URL when set, else dropped (metrics remain). */
export const startAlerts = (config: Config, logger: Logger): AlertSink & { stop(): void } => {
  const webhook = config.alertWebhook;
  if (webhook === null) return { raise: () => undefined, stop: () => undefined };
  return createWebhookAlertSink({
    url: webhook.url,
    format: webhook.format,
    windowMs: webhook.windowMs,
    repeatMs: webhook.repeatMs,
    timeoutMs: webhook.timeoutMs,
    serviceName: config.tracing.serviceName,
    clock: Date.now,
    // The URL often carries the webhook's token: never logged.
    onPosted: (kind, count) => logger.info('alert_posted', { kind, count }),
    onFailed: (kind, reason) => logger.warn('alert_post_failed', { kind, reason }),
  });
};
