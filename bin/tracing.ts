import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { traceparentOf, tracingSdkRegistered } from '../api/middleware/trace-requests';
import type { ActorRuntime, CommandContext } from '../domain/actors/actor-runtime';
import type { Ledger } from '../domain/ledger/ledger';
import type { TrafficWriter } from '../domain/traffic/traffic-writer';

/**
 * Tracing. The code creates spans through the OpenTelemetry API only; without an SDK (no
 * OTEL_EXPORTER_OTLP_ENDPOINT) every span is the API's no-op and nothing is recorded or sent.
 * With one, spans go to the OTLP/HTTP endpoint in batches. The commands' spans (these wrappers)
 * put their own `traceparent` into the command context, so the events they write carry it, the
 * relay sends it on as a header and the saga that consumes the event continues the same trace.
 */
export type TracingConfig = {
  /** OTLP/HTTP base URL (spans go to `<url>/v1/traces`); null: tracing off. */
  otlpEndpoint: string | null;
  serviceName: string;
};

type Tracing = { stop: () => Promise<void> };

const TRACER_NAME = 'ledger-service';

/**
 * Registers the SDK (AsyncLocalStorage context, W3C propagation) when an endpoint is set. The SDK
 * and exporter are loaded only then: without tracing the service never loads them.
 */
export const startTracing = async (config: TracingConfig): Promise<Tracing> => {
  if (config.otlpEndpoint === null) return { stop: () => Promise.resolve() };
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, sdk, { ATTR_SERVICE_NAME }] =
    await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/semantic-conventions'),
    ]);
  const exporter = new OTLPTraceExporter({
    url: `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`,
  });
  const provider = new sdk.NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    spanProcessors: [new sdk.BatchSpanProcessor(exporter)],
  });
  provider.register();
  return { stop: () => provider.shutdown() };
};

const withTraceparent = (context: CommandContext, span: Span): CommandContext => {
  const traceparent = traceparentOf(span);
  return traceparent === null ? context : { ...context, traceparent };
};

/** Runs work in a child span of the active context; a throw marks the span as an error. */
const inSpan = <T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> =>
  trace.getTracer(TRACER_NAME).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error: unknown) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });

/** A command's `type`, or 'unknown' (span names and metric labels). */
export const commandTypeOf = (command: unknown): string =>
  typeof command === 'object' &&
  command !== null &&
  'type' in command &&
  typeof command.type === 'string'
    ? command.type
    : 'unknown';

/** Every actor command in a span named `<category> <command>`, its events carrying the span. */
export const traceRuntime = (runtime: ActorRuntime): ActorRuntime => ({
  ...runtime,
  execute: (aggregate, id, command, context) =>
    !tracingSdkRegistered()
      ? runtime.execute(aggregate, id, command, context)
      : inSpan(
          `${aggregate.category} ${commandTypeOf(command)}`,
          { 'ledger.aggregate': aggregate.category, 'ledger.aggregate_id': id },
          async (span) => {
            const outcome = await runtime.execute(
              aggregate,
              id,
              command,
              withTraceparent(context, span),
            );
            span.setAttribute('ledger.outcome', outcome.ok ? 'accepted' : outcome.rejection);
            return outcome;
          },
        ),
});

type WriterRequest = {
  commands: readonly { command: { type: string } }[];
  context: CommandContext;
};

/** A single writer's request in a span named `<writer> <command types>`. */
const tracedExecute =
  <Request extends WriterRequest, Reply>(
    writer: string,
    execute: (request: Request) => Promise<Reply>,
  ) =>
  (request: Request): Promise<Reply> => {
    if (!tracingSdkRegistered()) return execute(request);
    const types = [...new Set(request.commands.map(({ command }) => command.type))];
    return inSpan(
      `${writer} ${types.join(',')}`,
      { 'ledger.command_count': request.commands.length },
      (span) => execute({ ...request, context: withTraceparent(request.context, span) }),
    );
  };

/** The ledger's requests traced (a saga's wallet credit is one). */
export const traceLedger = (ledger: Ledger): Ledger => ({
  ...ledger,
  execute: tracedExecute('ledger', ledger.execute),
});

/** The traffic writer's requests traced. */
export const traceTraffic = (traffic: TrafficWriter): TrafficWriter => ({
  ...traffic,
  execute: tracedExecute('traffic', traffic.execute),
});
