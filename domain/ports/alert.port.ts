/**
 * Alerts the service posts itself (a chat webhook), for deployments without Prometheus. Each kind
 * is counted per window; a window that reaches the kind's countMin is posted once, naming the
 * count. The thresholds assume the default one-minute window (ALERT_WINDOW_MS).
 */
export const ALERT_KINDS = {
  /** Channel callbacks whose signature does not verify or is stale: forgery. */
  callback_signature_failures: { countMin: 5, what: 'callback signature failures' },
  /** Callbacks a channel delivered again (duplicate or replayed): more than 10 a minute. */
  duplicate_callbacks: { countMin: 11, what: 'duplicate callbacks' },
  /** Payer status requests with a malformed, unknown, used or expired ticket. */
  status_ticket_failures: { countMin: 11, what: 'status-ticket failures' },
  /** Payment lookups answered 404: order-number enumeration. */
  payment_lookup_misses: { countMin: 21, what: 'lookups of unknown payments' },
  channel_breaker_open: { countMin: 1, what: 'channel circuit breakers opened' },
  saga_dead_lettered: { countMin: 1, what: 'sagas dead-lettered (waiting for a human)' },
  bus_dead_letter: { countMin: 1, what: 'bus messages dead-lettered' },
  node_silent: { countMin: 1, what: 'nodes gone silent' },
  /** A daily reconciliation left a difference it could not repair: a person must look. */
  reconciliation_difference: {
    countMin: 1,
    what: 'reconciliation differences left for a person',
  },
} as const;

export type AlertKind = keyof typeof ALERT_KINDS;

export interface AlertSink {
  /**
   * Counts one occurrence. Never blocks and never throws; `subject` names what it concerns (a
   * channel, saga, node or client id), never a secret.
   */
  raise(kind: AlertKind, subject: string): void;
}
