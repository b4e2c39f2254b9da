import type { Writable } from 'node:stream';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { createLogger as createWinstonLogger, format, transports } from 'winston';
import type { Logger } from 'winston';
import type { LogLevel } from './config';

/** Field names that may carry credentials: their values never reach the log. */
const SECRET_FIELD_PATTERN = /key|secret|password|authorization|signature|token/i;
const REDACTED = '[redacted]';
/** Deeper structures are cut: a log line is not the place for a whole document. */
const DEPTH_MAX = 6;

const redactValue = (value: unknown, depth: number): unknown => {
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= DEPTH_MAX) return '[truncated]';
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(value)) {
    copy[field] = SECRET_FIELD_PATTERN.test(field) ? REDACTED : redactValue(fieldValue, depth + 1);
  }
  return copy;
};

/**
 * Replaces the value of every field named like key/secret/password/authorization/apiKey/
 * signature/token, at any depth. Matching by name is broad on purpose (idempotencyKey and
 * keyHash are hidden too): a false positive costs a debugging detail, a miss leaks a credential.
 */
const redactSecrets = format((info) => {
  for (const field of Object.keys(info)) {
    if (field === 'level' || field === 'message') continue;
    info[field] = SECRET_FIELD_PATTERN.test(field) ? REDACTED : redactValue(info[field], 1);
  }
  return info;
});

/**
 * The active span's trace and span ids on every line written inside one (a request, a command, a
 * saga step), so that a log line leads to its trace and back. Nothing outside a trace.
 */
const traceIds = format((info) => {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return info;
  info['traceId'] = spanContext.traceId;
  info['spanId'] = spanContext.spanId;
  return info;
});

/** JSON lines (timestamp, level, message, fields) to stdout, or to `stream` in tests. */
export const createLogger = (level: LogLevel, options: { stream?: Writable } = {}): Logger =>
  createWinstonLogger({
    level,
    format: format.combine(redactSecrets(), traceIds(), format.timestamp(), format.json()),
    transports: [
      options.stream === undefined
        ? new transports.Console()
        : new transports.Stream({ stream: options.stream }),
    ],
  });
