import {
  defaultTextMapGetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type {
  BusMessage,
  Consumption,
  DeliveryOutcome,
  MessageBus,
} from '../domain/ports/bus.port';
import type { JsonObject } from '../domain/ports/event-store.port';
import { triggerOf, type LedgerEvent } from './saga-definition';
import type { SagaEngine } from './saga-engine';
import { EVENT_SUBJECT_PREFIX } from './relay';

/**
 * The sagas' bus side: one durable consumer per saga for its triggers, and one for saga control
 * events (a saga started by a command, a dead-lettered saga retried). Each message is handled to
 * the end (saga started and driven) before it is acknowledged; a failure is redelivered with
 * back-off, and a message that cannot be read is dead-lettered at once.
 */
type SagaHostOptions = {
  bus: MessageBus;
  engine: Pick<SagaEngine, 'definitions' | 'start' | 'drive'>;
  ackWaitMs: number;
  deliveryCountMax: number;
  backoffMs: readonly number[];
  /**
   * Whether a tracing SDK is registered now (absent: always). Without one a consumer span is the
   * API's no-op and the commands a saga runs are not traced (bin/tracing.ts), so a message is
   * handled without making a span: nothing would be recorded or passed on.
   */
  tracing?: () => boolean;
};

const CONTROL_TRIGGERS = ['saga.SagaStarted', 'saga.SagaRetried'];
const TRACER_NAME = 'ledger-service';
const propagator = new W3CTraceContextPropagator();

/**
 * Handles a message in a consumer span whose parent is the message's `traceparent` header (the
 * command that wrote the event): the saga's steps, their commands and channel calls, run inside
 * it and so continue the trace of the event that triggered them.
 */
const traced =
  (
    consumer: string,
    handle: (message: BusMessage) => Promise<DeliveryOutcome>,
    tracing: () => boolean,
  ) =>
  (message: BusMessage): Promise<DeliveryOutcome> => {
    if (!tracing()) return handle(message);
    const parent = propagator.extract(ROOT_CONTEXT, message.headers, defaultTextMapGetter);
    const attributes = {
      'messaging.destination.name': message.subject,
      'messaging.message.id': message.id,
    };
    return trace
      .getTracer(TRACER_NAME)
      .startActiveSpan(
        `${consumer} process`,
        { kind: SpanKind.CONSUMER, attributes },
        parent,
        async (span) => {
          try {
            const outcome = await handle(message);
            span.setAttribute('ledger.delivery.outcome', outcome.kind);
            return outcome;
          } catch (error: unknown) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
            throw error;
          } finally {
            span.end();
          }
        },
      );
  };

/** The ledger event a relay payload carries, or null when it is not one. */
export const ledgerEventOf = (payload: JsonObject): LedgerEvent | null => {
  const { id, stream, revision, type, data, schemaVersion, occurredAt } = payload;
  if (
    typeof id !== 'string' ||
    typeof stream !== 'string' ||
    typeof revision !== 'number' ||
    !Number.isSafeInteger(revision) ||
    revision < 0 ||
    typeof type !== 'string' ||
    typeof schemaVersion !== 'number' ||
    typeof occurredAt !== 'string'
  )
    return null;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  return { id, stream, revision, type, data, schemaVersion, occurredAt };
};

const always = (): boolean => true;

export const createSagaHost = (options: SagaHostOptions) => {
  const { engine } = options;
  const tracing = options.tracing ?? always;
  const consumptions: Consumption[] = [];

  const onControl = async (event: LedgerEvent): Promise<void> => {
    const key = event.stream.slice('saga-'.length);
    const definition = engine.definitions.find((candidate) => key.startsWith(`${candidate.name}-`));
    if (definition !== undefined)
      await engine.drive(definition.name, key.slice(definition.name.length + 1));
  };

  const handler =
    (sagaName: string | null) =>
    async (message: BusMessage): Promise<DeliveryOutcome> => {
      const event = ledgerEventOf(message.payload);
      if (event === null) return { kind: 'dead_letter', reason: 'malformed_event_payload' };
      if (sagaName === null) {
        if (CONTROL_TRIGGERS.includes(triggerOf(event))) await onControl(event);
        return { kind: 'ack' };
      }
      const definition = engine.definitions.find((candidate) => candidate.name === sagaName);
      const routing = definition?.route(event) ?? null;
      if (routing?.kind === 'start') await engine.start(sagaName, routing.sagaId, routing.input);
      if (routing?.kind === 'wake') await engine.drive(sagaName, routing.sagaId, { wake: true });
      return { kind: 'ack' };
    };

  const consumerOptions = (durableName: string, triggers: readonly string[]) => ({
    durableName,
    subjects: triggers.map((trigger) => `${EVENT_SUBJECT_PREFIX}.${trigger}`),
    ackWaitMs: options.ackWaitMs,
    deliveryCountMax: options.deliveryCountMax,
    backoffMs: options.backoffMs,
  });

  return {
    async start(): Promise<void> {
      for (const definition of engine.definitions) {
        if (definition.triggers.length === 0) continue;
        consumptions.push(
          await options.bus.consume(
            consumerOptions(`saga_${definition.name}`, definition.triggers),
            traced(`saga_${definition.name}`, handler(definition.name), tracing),
          ),
        );
      }
      consumptions.push(
        await options.bus.consume(
          consumerOptions('saga_control', CONTROL_TRIGGERS),
          traced('saga_control', handler(null), tracing),
        ),
      );
    },
    async stop(): Promise<void> {
      await Promise.all(consumptions.splice(0).map((consumption) => consumption.stop()));
    },
  };
};
