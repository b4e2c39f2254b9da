import { statfs } from 'node:fs/promises';
import { serviceMetrics, type MetricSources } from '../api/metrics';
import type { ActorRuntime } from '../domain/actors/actor-runtime';
import type { Ledger } from '../domain/ledger/ledger';
import type { TrafficWriter } from '../domain/traffic/traffic-writer';
import type { EventStore, StreamAppend } from '../domain/ports/event-store.port';
import { READ_MODELS } from '../projections/read-models';
import { measureLag, type Lag } from '../projections/read-side';
import { paymentAggregate } from '../domain/payment/payment.decider';
import type { PaymentCommand, PaymentState } from '../domain/payment/payment.model';
import { categoryOf } from '../sagas/saga-definition';
import { paymentCountOf } from './payment-metrics';
import { commandTypeOf, traceLedger, traceRuntime, traceTraffic } from './tracing';

/**
 * The composition root's side of the metrics: decorators around the ports that count what passes
 * through them (appends, commands), and the sources the gauges read at scrape time. The domain
 * and the adapters stay free of prom-client; they only offer counts and callbacks.
 */
const NS_PER_S = 1e9;

const countAppended = (appends: readonly StreamAppend[]): void => {
  const { eventsAppended, appendBatchEvents } = serviceMetrics();
  let eventCount = 0;
  for (const { stream, events } of appends) {
    eventsAppended.inc({ category: categoryOf(stream) }, events.length);
    eventCount += events.length;
  }
  appendBatchEvents.observe(eventCount);
};

/**
 * Counts appended events by category, events per append and the time to the durable commit;
 * `onAppended` sees each committed append too (the signed checkpoints' event count).
 */
export const instrumentEventStore = <Store extends EventStore>(
  store: Store,
  onAppended: (appends: readonly StreamAppend[]) => void = () => undefined,
): Store => {
  const timed = async <Result extends { ok: boolean }>(
    appends: readonly StreamAppend[],
    append: () => Promise<Result>,
  ): Promise<Result> => {
    const startedNs = process.hrtime.bigint();
    const observe = (outcome: string): void =>
      serviceMetrics().appendDuration.observe(
        { outcome },
        Number(process.hrtime.bigint() - startedNs) / NS_PER_S,
      );
    try {
      const result = await append();
      observe(result.ok ? 'committed' : 'conflict');
      if (result.ok) {
        countAppended(appends);
        onAppended(appends);
      }
      return result;
    } catch (error: unknown) {
      observe('failed');
      throw error;
    }
  };
  return {
    ...store,
    append: (stream, events, expected) =>
      timed([{ stream, events, expected }], () => store.append(stream, events, expected)),
    appendMulti: (appends, records) => timed(appends, () => store.appendMulti(appends, records)),
  };
};

/**
 * Counts every actor command by aggregate, type and outcome (accepted, rejected, failed), and
 * traces it (bin/tracing.ts).
 */
export const instrumentRuntime = (runtime: ActorRuntime): ActorRuntime =>
  traceRuntime(countRuntime(runtime));

const countPayment = (command: PaymentCommand, state: PaymentState, eventCount: number): void => {
  const counted = paymentCountOf(command, state, eventCount);
  if (counted === null) return;
  const { channel, currency, outcome, amountMinor } = counted;
  const { payments, paymentAmounts } = serviceMetrics();
  payments.inc({ channel, outcome });
  if (amountMinor !== null) paymentAmounts.inc({ channel, currency, outcome }, amountMinor);
};

const countRuntime = (runtime: ActorRuntime): ActorRuntime => ({
  ...runtime,
  execute: async (aggregate, id, command, context) => {
    const labels = { aggregate: aggregate.category, command: commandTypeOf(command) };
    const { commands } = serviceMetrics();
    try {
      const outcome = await runtime.execute(aggregate, id, command, context);
      commands.inc({ ...labels, outcome: outcome.ok ? 'accepted' : 'rejected' });
      // The one aggregate whose commands are business metrics; the identity check makes the casts safe.
      if (outcome.ok && (aggregate as unknown) === paymentAggregate)
        countPayment(command as PaymentCommand, outcome.state as PaymentState, outcome.eventCount);
      return outcome;
    } catch (error: unknown) {
      commands.inc({ ...labels, outcome: 'failed' });
      throw error;
    }
  },
});

type WriterRequest = { commands: readonly { command: { type: string } }[] };
type WriterReply = { kind: 'replay' } | { kind: 'decided'; outcomes: readonly { ok: boolean }[] };

/**
 * A single writer's execute that counts every command by type and outcome: accepted, rejected,
 * replayed (another instance stored the request's Idempotency-Key first) or failed (the batch's
 * append failed).
 */
const countingExecute =
  <Request extends WriterRequest, Reply extends WriterReply>(
    aggregate: string,
    execute: (request: Request) => Promise<Reply>,
  ) =>
  async (request: Request): Promise<Reply> => {
    const { commands } = serviceMetrics();
    const count = (type: string, outcome: string): void =>
      commands.inc({ aggregate, command: type, outcome });
    try {
      const reply = await execute(request);
      request.commands.forEach(({ command }, index) => {
        if (reply.kind === 'replay') return count(command.type, 'replayed');
        count(command.type, reply.outcomes[index]?.ok === true ? 'accepted' : 'rejected');
      });
      return reply;
    } catch (error: unknown) {
      request.commands.forEach(({ command }) => count(command.type, 'failed'));
      throw error;
    }
  };

/** The ledger, its commands counted and traced. */
export const instrumentLedger = (ledger: Ledger): Ledger =>
  traceLedger({ ...ledger, execute: countingExecute('ledger', ledger.execute) });

/** The traffic writer, its commands (reports per shard, grants, resets) counted and traced. */
export const instrumentTraffic = (traffic: TrafficWriter): TrafficWriter =>
  traceTraffic({ ...traffic, execute: countingExecute('trafficshard', traffic.execute) });

/** A lag measured at most once per maxAgeMs: the events and seconds gauges share one read. */
const memoized = <T>(read: () => Promise<T>, maxAgeMs: number, nowMs: () => number) => {
  let last: { atMs: number; value: Promise<T> } | null = null;
  return (): Promise<T> => {
    const now = nowMs();
    if (last === null || now - last.atMs > maxAgeMs) {
      const value = read();
      last = { atMs: now, value };
      value.catch(() => (last = null));
    }
    return last.value;
  };
};

const LAG_MEMO_MS = 1000;

/** The gauges' sources of a running service. */
export const metricSourcesOf = (deps: {
  eventStore: EventStore;
  runtime: ActorRuntime;
  ledger: Ledger;
  traffic: TrafficWriter;
  readSideLag: () => Promise<Lag>;
  relayPosition: () => bigint | null;
  lagEventCountMax: number;
  sagaCounts: MetricSources['sagaCounts'];
  breakerStates: MetricSources['breakerStates'];
  reconciliationOpenItems: MetricSources['reconciliationOpenItems'];
  dataDir: string;
  nowMs: () => number;
}): MetricSources => {
  const readSideLag = memoized(deps.readSideLag, LAG_MEMO_MS, deps.nowMs);
  const relayLag = memoized(
    () => measureLag(deps.eventStore, deps.relayPosition(), deps.lagEventCountMax, deps.nowMs),
    LAG_MEMO_MS,
    deps.nowMs,
  );
  return {
    liveActorCount: () => deps.runtime.liveActorCount(),
    ledgerHeldStreamCount: () => deps.ledger.heldStreamCount(),
    ledgerQueuedCommandCount: () => deps.ledger.queuedCommandCount(),
    trafficQueuedCommandCount: () => deps.traffic.queuedCommandCount(),
    // One runner folds every read model with one checkpoint: each projection has the runner's lag.
    projectionLag: async () => {
      const lag = await readSideLag();
      return READ_MODELS.map((projection) => ({
        projection: projection.name,
        eventsBehind: lag.eventsBehind,
        msBehind: lag.msBehind,
      }));
    },
    relayLag,
    sagaCounts: deps.sagaCounts,
    breakerStates: deps.breakerStates,
    reconciliationOpenItems: deps.reconciliationOpenItems,
    dataDirSpace: async () => {
      const space = await statfs(deps.dataDir);
      return { freeBytes: space.bavail * space.bsize, sizeBytes: space.blocks * space.bsize };
    },
  };
};
