import type { JsonObject } from './event-store.port';

/**
 * The message bus between the relay and the sagas (NATS JetStream, or in-process). It is a
 * transport, never the record: a lost message only delays a flow until the sweeper, which reads
 * the event log, starts it. Delivery is at least once; a message id published twice within the
 * duplicate window is stored once.
 */
/** Message headers (NATS headers; kept beside the payload on the in-process bus). */
export type BusHeaders = Readonly<Record<string, string>>;

export type BusMessage = {
  subject: string;
  /** The publisher's message id (for ledger events: the event id). */
  id: string;
  payload: JsonObject;
  /** What the publisher set (for ledger events: the W3C `traceparent` of the writing command). */
  headers: BusHeaders;
  /** 1 on the first delivery. */
  deliveryCount: number;
};

/** What the consumer did with a message; a handler that throws counts as `retry`. */
export type DeliveryOutcome =
  { kind: 'ack' } | { kind: 'retry'; reason: string } | { kind: 'dead_letter'; reason: string };

export type ConsumerOptions = {
  /** Durable name: a restarted consumer resumes where the previous one acknowledged. */
  durableName: string;
  /** Subject filters, `*` and `>` wildcards as in NATS. */
  subjects: readonly string[];
  /** A message not acknowledged within this time is delivered again. */
  ackWaitMs: number;
  /** After this many deliveries a message still not acknowledged is dead-lettered. */
  deliveryCountMax: number;
  /** Redelivery delays, one per retry (the last one repeats). */
  backoffMs: readonly number[];
};

export type Consumption = {
  /** Stops delivering; waits for the handler calls in flight. */
  stop(): Promise<void>;
};

export interface MessageBus {
  /** Publishes durably (resolves once the bus stored it); a repeated id is a no-op. */
  publish(subject: string, id: string, payload: JsonObject, headers?: BusHeaders): Promise<void>;
  /** Starts a durable consumer; messages go to the handler one at a time, in order of arrival. */
  consume(
    options: ConsumerOptions,
    handler: (message: BusMessage) => Promise<DeliveryOutcome>,
  ): Promise<Consumption>;
  /** Dead-lettered messages go to `<deadLetterPrefix>.<original subject>` with the reason. */
  readonly deadLetterPrefix: string;
  /** Closes the connection; consumers stop. */
  close(): Promise<void>;
}

/** Thrown by publish when the bus is unreachable; the relay retries from its checkpoint. */
export class BusUnavailableError extends Error {
  override readonly name = 'BusUnavailableError';
}
