import {
  choiceVariable,
  integerVariable,
  urlVariable,
  variableReader,
  type ReadVariable,
} from './config-rules';
import type { TracingConfig } from './tracing';

/**
 * Tracing and the alert webhook, the operability part of bin/config.ts (whose describeConfig
 * documents their variables, below). Both are off unless their URL is set.
 */
export const ALERT_WEBHOOK_FORMATS = ['slack', 'wecom'] as const;

export type AlertWebhookConfig = {
  /** Incoming-webhook URL; it often holds a token: never logged. */
  url: string;
  format: (typeof ALERT_WEBHOOK_FORMATS)[number];
  /** An alert kind collects occurrences this long after its first one, then posts once. */
  windowMs: number;
  /** Least time between two posts of one alert kind. */
  repeatMs: number;
  /** Bound on one POST. */
  timeoutMs: number;
};

type ObservabilityConfig = { tracing: TracingConfig; alertWebhook: AlertWebhookConfig | null };

export const OBSERVABILITY_DEFAULTS = {
  OTEL_SERVICE_NAME: 'ledger-service',
  ALERT_WEBHOOK_FORMAT: 'slack',
  ALERT_WINDOW_MS: 60_000,
  ALERT_REPEAT_MS: 300_000,
  ALERT_WEBHOOK_TIMEOUT_MS: 5000,
} as const;

const HOUR_MS = 3600 * 1000;
const HTTP_URL = /^https?:\/\/\S+$/;

const alertWebhook = (read: ReadVariable): AlertWebhookConfig | null => {
  const url = urlVariable(read, 'ALERT_WEBHOOK_URL', HTTP_URL, 'be an http:// or https:// URL');
  if (url === null) return null;
  const integer = (name: keyof typeof OBSERVABILITY_DEFAULTS, min: number, max: number) =>
    integerVariable(read, name, Number(OBSERVABILITY_DEFAULTS[name]), { min, max });
  return {
    url,
    format: choiceVariable(
      read,
      'ALERT_WEBHOOK_FORMAT',
      ALERT_WEBHOOK_FORMATS,
      OBSERVABILITY_DEFAULTS.ALERT_WEBHOOK_FORMAT,
    ),
    windowMs: integer('ALERT_WINDOW_MS', 100, HOUR_MS),
    repeatMs: integer('ALERT_REPEAT_MS', 0, 24 * HOUR_MS),
    timeoutMs: integer('ALERT_WEBHOOK_TIMEOUT_MS', 100, 60_000),
  };
};

export const loadObservabilityConfig = (
  env: Readonly<Record<string, string | undefined>>,
): ObservabilityConfig => {
  const read = variableReader(env);
  return {
    tracing: {
      otlpEndpoint: urlVariable(
        read,
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        HTTP_URL,
        'be an http:// or https:// URL',
      ),
      serviceName: read('OTEL_SERVICE_NAME') ?? OBSERVABILITY_DEFAULTS.OTEL_SERVICE_NAME,
    },
    alertWebhook: alertWebhook(read),
  };
};
