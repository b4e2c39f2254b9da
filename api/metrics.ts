import { collectDefaultMetrics, Counter, Gauge, Histogram, register } from 'prom-client';

/**
 * The service's Prometheus families, on prom-client's default registry (served at GET /metrics).
 * Each is created once per process and shared by every app and service started in it (tests start
 * several). Counters are incremented where the thing happens (the API's middleware, the
 * composition root's wrappers around the ports); gauges are read at scrape time from the sources
 * the running service hands to setMetricSources. Nothing in domain/ sees prom-client.
 */
const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames });
};

const histogram = <L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
) => {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Histogram) return existing as Histogram<L>;
  return new Histogram<L>({ name, help, labelNames, buckets });
};

/** What the gauges read at scrape time; null while no service runs in this process. */
export type MetricSources = {
  liveActorCount: () => number;
  ledgerHeldStreamCount: () => number;
  ledgerQueuedCommandCount: () => number;
  trafficQueuedCommandCount: () => number;
  /** Per projection name: how far it trails the head of the log. */
  projectionLag: () => Promise<{ projection: string; eventsBehind: number; msBehind: number }[]>;
  relayLag: () => Promise<{ eventsBehind: number; msBehind: number }>;
  sagaCounts: () => { sagaName: string; status: string; count: number }[];
  /** Per channel: its circuit breaker's state (closed, open, half_open, isolated). */
  breakerStates: () => { channel: string; state: string }[];
  /** Per channel reconciled daily: its reconciliation differences still open (0 included). */
  reconciliationOpenItems: () => Promise<{ channel: string; count: number }[]>;
  /** The file system holding DATA_DIR: bytes available to the service, and its size. */
  dataDirSpace: () => Promise<{ freeBytes: number; sizeBytes: number }>;
};

const BREAKER_STATES = ['closed', 'open', 'half_open', 'isolated'] as const;

let sources: MetricSources | null = null;

/** The running service's sources (null at stop: the gauges then report nothing). */
export const setMetricSources = (next: MetricSources | null): void => {
  sources = next;
};

const gauge = <L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  collect: (gauge: Gauge<L>, current: MetricSources) => Promise<void> | void,
): Gauge<L> => {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Gauge) return existing as Gauge<L>;
  return new Gauge<L>({
    name,
    help,
    labelNames,
    async collect() {
      this.reset();
      if (sources !== null) await collect(this, sources);
    },
  });
};

const MS_PER_S = 1000;

const createMetrics = () => ({
  commands: counter(
    'ledger_commands_total',
    'Commands executed, by aggregate, command type and outcome (accepted, rejected, replayed, failed)',
    ['aggregate', 'command', 'outcome'],
  ),
  eventsAppended: counter(
    'ledger_events_appended_total',
    'Events appended to the event store, by stream category',
    ['category'],
  ),
  appendBatchEvents: histogram(
    'ledger_append_batch_events',
    'Events per append (one ledger batch or one actor batch, written atomically)',
    [],
    [1, 2, 4, 8, 16, 64, 256, 1024, 4096, 16384],
  ),
  appendDuration: histogram(
    'ledger_append_duration_seconds',
    'Time from an append call to its durable commit (or refusal)',
    ['outcome'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  ),
  idempotencyReplays: counter(
    'ledger_idempotency_replays_total',
    'Requests answered with the stored response of their Idempotency-Key',
    ['store'],
  ),
  idempotencyConflicts: counter(
    'ledger_idempotency_conflicts_total',
    'Idempotency-Key refusals: in_flight (409) or reused with another body (422)',
    ['reason'],
  ),
  sagaStepRetries: counter(
    'ledger_saga_step_retries_total',
    'Saga steps deferred for a retry after a transient failure, by saga',
    ['saga'],
  ),
  deadLetters: counter(
    'ledger_dead_letters_total',
    'Dead letters: sagas parked for a human (source saga) and bus messages given up (source bus)',
    ['source'],
  ),
  webhookAttempts: counter(
    'ledger_webhook_attempts_total',
    'Webhook delivery attempts by outcome: succeeded, retry (failed, tried again later), failed (gave up)',
    ['outcome'],
  ),
  channelCalls: counter(
    'ledger_channel_calls_total',
    'Outbound payment channel calls by channel, operation and final outcome',
    ['channel', 'operation', 'outcome'],
  ),
  authFailures: counter(
    'ledger_auth_failures_total',
    'Requests refused by authentication (401) or authorization (403), by reason',
    ['reason'],
  ),
  nodeStatusChanges: counter(
    'ledger_node_status_changes_total',
    'Nodes that came online or went silent (a missed heartbeat deadline: alert on to="silent")',
    ['to'],
  ),
  refusals: counter(
    'ledger_requests_refused_total',
    'Requests refused to protect the service (503 overloaded, unavailable, draining; 429 too many watchers)',
    ['reason'],
  ),
  payments: counter(
    'ledger_payments_total',
    'Payments by channel and outcome: created (order volume), succeeded, failed, closed, expired',
    ['channel', 'outcome'],
  ),
  paymentAmounts: counter(
    'ledger_payment_amount_minor_total',
    'Sum of payment amounts in minor units by channel, currency and outcome (created, succeeded)',
    ['channel', 'currency', 'outcome'],
  ),
  statusTicketFailures: counter(
    'ledger_status_ticket_failures_total',
    "Payer status requests refused for their ticket: malformed, or refused (unknown, used, expired, another payment's)",
    ['reason'],
  ),
  reconciliationRuns: counter(
    'ledger_reconciliation_runs_total',
    'Daily reconciliation runs by channel and outcome: clean, repaired (all differences put right), differences (some left for a person), failed (statement or ledger unreachable; retried)',
    ['channel', 'outcome'],
  ),
  paymentLookupMisses: counter(
    'ledger_payment_lookup_misses_total',
    "Payment lookups answered 404 (unknown payment or order number, or not the caller's), by client: enumeration shows here",
    ['client'],
  ),
  actorsInMemory: gauge(
    'ledger_actors_in_memory',
    'Actors held in memory (kind actor) and account/transfer streams the ledger holds (kind ledger_stream)',
    ['kind'],
    (metric, current) => {
      metric.set({ kind: 'actor' }, current.liveActorCount());
      metric.set({ kind: 'ledger_stream' }, current.ledgerHeldStreamCount());
    },
  ),
  mailboxDepth: gauge(
    'ledger_mailbox_queued_commands',
    "Commands queued at a single writer's mailbox (the ledger, the traffic writer), not yet decided",
    ['mailbox'],
    (metric, current) => {
      metric.set({ mailbox: 'ledger' }, current.ledgerQueuedCommandCount());
      metric.set({ mailbox: 'traffic' }, current.trafficQueuedCommandCount());
    },
  ),
  projectionLagEvents: gauge(
    'ledger_projection_lag_events',
    'Events of the log a projection has not applied yet (counted up to 10,000)',
    ['projection'],
    async (metric, current) => {
      for (const lag of await current.projectionLag())
        metric.set({ projection: lag.projection }, lag.eventsBehind);
    },
  ),
  projectionLagSeconds: gauge(
    'ledger_projection_lag_seconds',
    'Age of the oldest event a projection has not applied yet (0 when caught up)',
    ['projection'],
    async (metric, current) => {
      for (const lag of await current.projectionLag())
        metric.set({ projection: lag.projection }, lag.msBehind / MS_PER_S);
    },
  ),
  relayLagEvents: gauge(
    'ledger_relay_lag_events',
    'Events of the log the relay has not published to the bus yet (counted up to 10,000)',
    [],
    async (metric, current) => metric.set((await current.relayLag()).eventsBehind),
  ),
  relayLagSeconds: gauge(
    'ledger_relay_lag_seconds',
    'Age of the oldest event the relay has not published yet (0 when caught up)',
    [],
    async (metric, current) => metric.set((await current.relayLag()).msBehind / MS_PER_S),
  ),
  sagas: gauge(
    'ledger_sagas',
    'Saga instances by saga and state, folded from the log',
    ['saga', 'state'],
    (metric, current) => {
      for (const { sagaName, status, count } of current.sagaCounts())
        metric.set({ saga: sagaName, state: status }, count);
    },
  ),
  breakerState: gauge(
    'ledger_channel_breaker_state',
    "Each channel's circuit breaker: 1 for its current state, 0 for the others",
    ['channel', 'state'],
    (metric, current) => {
      for (const { channel, state } of current.breakerStates())
        for (const candidate of BREAKER_STATES)
          metric.set({ channel, state: candidate }, candidate === state ? 1 : 0);
    },
  ),
  reconciliationUnresolved: gauge(
    'ledger_reconciliation_unresolved_differences',
    "Differences of the daily reconciliation's reports neither repaired nor resolved, by channel",
    ['channel'],
    async (metric, current) => {
      for (const { channel, count } of await current.reconciliationOpenItems())
        metric.set({ channel }, count);
    },
  ),
  dataDirFreeBytes: gauge(
    'ledger_data_dir_free_bytes',
    'Bytes available to the service on the file system holding DATA_DIR',
    [],
    async (metric, current) => metric.set((await current.dataDirSpace()).freeBytes),
  ),
  dataDirSizeBytes: gauge(
    'ledger_data_dir_size_bytes',
    'Size in bytes of the file system holding DATA_DIR',
    [],
    async (metric, current) => metric.set((await current.dataDirSpace()).sizeBytes),
  ),
});

let metrics: ReturnType<typeof createMetrics> | null = null;

/** The families, created on first use. */
export const serviceMetrics = (): ReturnType<typeof createMetrics> => (metrics ??= createMetrics());

/**
 * prom-client's gauges of active handles, requests and resources in total: promtool refuses them
 * (a gauge named `_total` reads as a counter). The same totals are `sum(nodejs_active_handles)`,
 * `sum(nodejs_active_requests)` and `sum(nodejs_active_resources)` over the by-type gauges kept.
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/** prom-client's process and Node.js defaults, without the misnamed gauges; once per process. */
export const collectProcessMetrics = (): void => {
  collectDefaultMetrics();
  for (const name of MISNAMED_DEFAULT_GAUGES) register.removeSingleMetric(name);
};
