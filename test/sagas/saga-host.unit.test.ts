import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createInProcessBus } from '../../adapters/bus/in-process.bus';
import { sagaAggregate } from '../../domain/saga/saga.decider';
import type { SagaDefinition } from '../../sagas/saga-definition';
import { createSagaHost } from '../../sagas/saga-host';
import { eventually } from '../support/eventually';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

// An SDK with its context manager, so that a span made is recorded and seen by the handler;
// the host's `tracing` option stands for whether one is registered.
const exporter = new InMemorySpanExporter();
new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();

/**
 * Hosts one saga whose start records the trace it runs in, publishes one trigger carrying a
 * traceparent header, and answers the trace id the start saw (null: it ran in no span).
 */
const traceSeenByStart = async (tracing?: () => boolean): Promise<string | null> => {
  const bus = createInProcessBus({
    retainedMessageCountMax: 100,
    deliveryConcurrencyMax: 4,
    duplicateWindowMs: 60_000,
    deadLetterPrefix: 'ledger.deadletter',
    clock: Date.now,
  });
  const seen: (string | null)[] = [];
  const probe: SagaDefinition = {
    name: 'probe',
    triggers: ['payment.PaymentSucceeded'],
    route: (event) => ({ kind: 'start', sagaId: event.stream, input: {} }),
    steps: [],
  };
  const host = createSagaHost({
    bus,
    engine: {
      definitions: [probe],
      start: () => {
        seen.push(trace.getActiveSpan()?.spanContext().traceId ?? null);
        return Promise.resolve(sagaAggregate.initialState);
      },
      drive: () => Promise.resolve(sagaAggregate.initialState),
    },
    ackWaitMs: 1000,
    deliveryCountMax: 3,
    backoffMs: [10],
    ...(tracing === undefined ? {} : { tracing }),
  });
  await host.start();
  await bus.publish(
    'ledger.events.payment.PaymentSucceeded',
    'event-1',
    {
      id: 'event-1',
      stream: 'payment-1',
      revision: 1,
      type: 'PaymentSucceeded',
      data: {},
      schemaVersion: 1,
      occurredAt: '2026-12-07T03:00:00.000Z',
    },
    { traceparent: TRACEPARENT },
  );
  const [traceId] = await eventually(() => (seen.length === 1 ? seen : undefined), {
    timeoutMs: 5000,
    what: 'the saga started',
  });
  await host.stop();
  return traceId ?? null;
};

describe('the saga host', () => {
  beforeEach(() => exporter.reset());

  it("handles a message in a span continuing the message's trace while tracing is on (the default)", async () => {
    expect(await traceSeenByStart()).toBe(TRACE_ID);
    expect(await traceSeenByStart(() => true)).toBe(TRACE_ID);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => [span.name, span.spanContext().traceId])).toEqual([
      ['saga_probe process', TRACE_ID],
      ['saga_probe process', TRACE_ID],
    ]);
  });

  it('makes no span for a message while no tracing SDK is registered: there is nothing to record or pass on', async () => {
    expect(await traceSeenByStart(() => false)).toBeNull();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
