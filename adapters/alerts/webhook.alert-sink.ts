import { ALERT_KINDS, type AlertKind, type AlertSink } from '../../domain/ports/alert.port';

/**
 * The AlertSink on a chat incoming webhook (Slack `{text}` or WeCom `{msgtype, text.content}`).
 * An alert kind's first occurrence opens a window of windowMs (longer when the kind posted less
 * than repeatMs ago); occurrences coalesce into it, and at its end one POST names the count and
 * the subjects, if the count reached the kind's countMin. raise() only counts: the POST runs on a
 * timer, bounded by timeoutMs, and a failure is reported, never thrown.
 */
type WebhookFormat = 'slack' | 'wecom';

type WebhookAlertSinkOptions = {
  url: string;
  format: WebhookFormat;
  windowMs: number;
  repeatMs: number;
  timeoutMs: number;
  /** Names the service in the message. */
  serviceName: string;
  clock: () => number;
  onPosted: (kind: AlertKind, count: number) => void;
  onFailed: (kind: AlertKind, reason: string) => void;
};

/** Subjects named in one message; the rest are counted as "others". */
const SUBJECT_COUNT_MAX = 10;

type Pending = { count: number; subjects: Map<string, number>; timer: NodeJS.Timeout | null };

/** The message of a window: "[service] 7 callback signature failures in 60 s (sandbox: 7)". */
export const alertText = (
  serviceName: string,
  kind: AlertKind,
  count: number,
  subjects: ReadonlyMap<string, number>,
  windowMs: number,
): string => {
  const named = [...subjects].map(([subject, times]) => `${subject}: ${times}`);
  const others = count - [...subjects.values()].reduce((sum, times) => sum + times, 0);
  if (others > 0) named.push(`others: ${others}`);
  const seconds = Math.round(windowMs / 1000);
  return `[${serviceName}] ${count} ${ALERT_KINDS[kind].what} in ${seconds} s (${named.join(', ')})`;
};

/** The webhook's JSON body for a text. */
export const alertBody = (format: WebhookFormat, text: string): string =>
  JSON.stringify(format === 'slack' ? { text } : { msgtype: 'text', text: { content: text } });

export const createWebhookAlertSink = (
  options: WebhookAlertSinkOptions,
): AlertSink & { stop(): void } => {
  const pending = new Map<AlertKind, Pending>();
  const postedAtMs = new Map<AlertKind, number>();

  const post = (kind: AlertKind, count: number, text: string): void => {
    fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: alertBody(options.format, text),
      signal: AbortSignal.timeout(options.timeoutMs),
    }).then(
      async (answer) => {
        await answer.arrayBuffer(); // Frees the connection.
        if (answer.ok) options.onPosted(kind, count);
        else options.onFailed(kind, `status ${answer.status}`);
      },
      (error: unknown) => options.onFailed(kind, String(error)),
    );
  };

  const flush = (kind: AlertKind, openedAtMs: number): void => {
    const window = pending.get(kind);
    pending.delete(kind);
    if (window === undefined || window.count < ALERT_KINDS[kind].countMin) return;
    const nowMs = options.clock();
    postedAtMs.set(kind, nowMs);
    const text = alertText(
      options.serviceName,
      kind,
      window.count,
      window.subjects,
      nowMs - openedAtMs,
    );
    post(kind, window.count, text);
  };

  return {
    raise: (kind, subject) => {
      const window = pending.get(kind) ?? { count: 0, subjects: new Map(), timer: null };
      pending.set(kind, window);
      window.count += 1;
      const times = window.subjects.get(subject);
      if (times !== undefined) window.subjects.set(subject, times + 1);
      else if (window.subjects.size < SUBJECT_COUNT_MAX) window.subjects.set(subject, 1);
      if (window.timer !== null) return;
      const nowMs = options.clock();
      const repeatAtMs = (postedAtMs.get(kind) ?? Number.NEGATIVE_INFINITY) + options.repeatMs;
      const delayMs = Math.max(options.windowMs, repeatAtMs - nowMs);
      window.timer = setTimeout(() => flush(kind, nowMs), delayMs);
      window.timer.unref();
    },
    stop: () => {
      for (const window of pending.values()) if (window.timer !== null) clearTimeout(window.timer);
      pending.clear();
    },
  };
};
