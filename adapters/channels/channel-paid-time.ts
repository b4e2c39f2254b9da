/**
 * Channels' own paid times, read into ISO-8601 instants (null when absent or unreadable: the
 * payment is then judged without it). WeChat v2 and Alipay write Beijing time without an offset.
 */
const isoOf = (ms: number): string | null => (Number.isNaN(ms) ? null : new Date(ms).toISOString());

/** WeChat Pay v2 `time_end`: "20250131200000", Beijing time. */
export const wechatCompactTime = (text: string | undefined): string | null => {
  const parts = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text ?? '');
  if (parts === null) return null;
  const [, year, month, day, hour, minute, second] = parts;
  return isoOf(Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}+08:00`));
};

/** Alipay `gmt_payment` / `send_pay_date`: "2025-01-31 20:00:00", Beijing time. */
export const alipaySpacedTime = (text: unknown): string | null =>
  typeof text === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)
    ? isoOf(Date.parse(`${text.replace(' ', 'T')}+08:00`))
    : null;

/** WeChat Pay v3 `success_time`: RFC 3339 with its offset, "2025-01-31T20:00:00+08:00". */
export const rfc3339Time = (text: unknown): string | null =>
  typeof text === 'string' &&
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)
    ? isoOf(Date.parse(text))
    : null;

/** Stripe `created`: Unix seconds. */
export const unixSecondsTime = (seconds: unknown): string | null =>
  typeof seconds === 'number' && Number.isSafeInteger(seconds) && seconds > 0
    ? isoOf(seconds * 1000)
    : null;

/** The notification's `channelPaidAt` field: present only when the channel dated the payment. */
export const paidAtOf = (iso: string | null): { channelPaidAt?: string } =>
  iso === null ? {} : { channelPaidAt: iso };
