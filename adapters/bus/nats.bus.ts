import {
  Events,
  AckPolicy,
  DeliverPolicy,
  JSONCodec,
  RetentionPolicy,
  StorageType,
  connect,
  headers as natsHeaders,
  nanos,
  type JetStreamClient,
  type JetStreamManager,
  type ConsumerMessages,
  type JsMsg,
  type MsgHdrs,
  type NatsConnection,
} from 'nats';
import type {
  BusHeaders,
  BusMessage,
  ConsumerOptions,
  DeliveryOutcome,
  MessageBus,
} from '../../domain/ports/bus.port';
import { BusUnavailableError } from '../../domain/ports/bus.port';
import type { JsonObject } from '../../domain/ports/event-store.port';
import { assert } from '../../domain/assert';
import { createAckedPublisher, createTurnSender } from './nats-acked-publisher';
import { backoffDelayMs } from './subject-match';

/** The publisher's headers of a message, without the server's own `Nats-*` ones. */
const headersOf = (received: MsgHdrs | undefined): BusHeaders => {
  const kept: Record<string, string> = {};
  for (const name of received?.keys() ?? [])
    if (!name.toLowerCase().startsWith('nats-')) kept[name] = received?.get(name) ?? '';
  return kept;
};

/**
 * The bus on NATS JetStream: one stream for ledger events and audit records, one for dead
 * letters. Consumers are durable pull consumers with explicit ack; each fetch loop re-creates its
 * stream and consumer when they vanished (server restarted with a wiped store), so the service
 * rides through NATS outages without a restart.
 */
type NatsBusOptions = {
  servers: string;
  streamName: string;
  /** Subjects the main stream stores, e.g. ['ledger.events.>', 'ledger.audit.>']. */
  subjects: readonly string[];
  retention: 'limits' | 'interest' | 'workqueue';
  maxAgeMs: number;
  replicas: number;
  duplicateWindowMs: number;
  deadLetterPrefix: string;
  fetchBatchMax: number;
  /** How long one pull waits for messages (they are handled as they arrive); nats.js wants ≥ 1000. */
  fetchExpiresMs: number;
  /** A publish the stream has not acknowledged within this time fails (and is retried). */
  publishAckTimeoutMs: number;
  /** Pause after a failed fetch or publish before trying again. */
  retryPauseMs: number;
  /**
   * Durable names of consumers this service no longer reads (each subject filter's consumer is
   * `<name>_<index>`): removed at start, so an interest-retention stream does not keep every
   * message for a reader that never comes back.
   */
  retiredConsumers?: readonly string[];
  onWarning: (what: string, fields: Record<string, unknown>) => void;
  /** After a message is dead-lettered (metrics). */
  onDeadLetter?: (subject: string, reason: string) => void;
};

/** The bus, and whether its connection to the server is up now (readiness). */
type NatsBus = MessageBus & { connected(): boolean };

const codec = JSONCodec<JsonObject>();
const MSG_ID_HEADER = 'Nats-Msg-Id';
const retentionPolicies = {
  limits: RetentionPolicy.Limits,
  interest: RetentionPolicy.Interest,
  workqueue: RetentionPolicy.Workqueue,
} as const;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const createNatsBus = async (options: NatsBusOptions): Promise<NatsBus> => {
  assert(options.fetchExpiresMs >= 1000, 'fetchExpiresMs must be at least 1000');
  const connection: NatsConnection = await connect({
    servers: options.servers,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.retryPauseMs,
  });
  let connected = true;
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === Events.Disconnect) connected = false;
      if (status.type === Events.Reconnect) connected = true;
    }
  })();
  const jsm: JetStreamManager = await connection.jetstreamManager();
  const js: JetStreamClient = connection.jetstream();
  const deadStreamName = `${options.streamName}_DEAD`;

  const ensureStream = async (name: string, subjects: readonly string[]): Promise<void> => {
    const config = {
      name,
      subjects: [...subjects],
      retention: retentionPolicies[options.retention],
      storage: StorageType.File,
      max_age: nanos(options.maxAgeMs),
      num_replicas: options.replicas,
      duplicate_window: nanos(options.duplicateWindowMs),
    };
    try {
      await jsm.streams.info(name);
      await jsm.streams.update(name, config);
    } catch {
      await jsm.streams.add(config);
    }
  };
  const ensureStreams = async (): Promise<void> => {
    await ensureStream(options.streamName, options.subjects);
    await ensureStream(deadStreamName, [`${options.deadLetterPrefix}.>`]);
  };
  await ensureStreams();
  const retired = options.retiredConsumers ?? [];
  if (retired.length > 0)
    for await (const info of jsm.consumers.list(options.streamName))
      if (retired.some((name) => info.name.startsWith(`${name}_`))) {
        await jsm.consumers.delete(options.streamName, info.name);
        options.onWarning('bus_retired_consumer_removed', { durable: info.name });
      }

  const turn = createTurnSender();
  const publisher = createAckedPublisher(connection, {
    ackTimeoutMs: options.publishAckTimeoutMs,
    clock: Date.now,
    send: turn.sendSoon,
  });
  /** The event id is the stream's dedupe key (`Nats-Msg-Id`): a re-publish is stored once. */
  const publishOnce = (
    subject: string,
    id: string,
    payload: JsonObject,
    headers: BusHeaders,
  ): Promise<void> => {
    const sent = natsHeaders();
    sent.set(MSG_ID_HEADER, id);
    for (const name in headers) sent.set(name, headers[name] ?? '');
    return publisher.publish(subject, codec.encode(payload), sent);
  };

  /** A stream lost with the server's store is re-created once before the publish gives up. */
  const publish = async (
    subject: string,
    id: string,
    payload: JsonObject,
    headers: BusHeaders = {},
  ): Promise<void> => {
    try {
      await publishOnce(subject, id, payload, headers);
    } catch (first: unknown) {
      try {
        await ensureStreams();
        await publishOnce(subject, id, payload, headers);
      } catch (error: unknown) {
        throw new BusUnavailableError(`publish to ${subject} failed: ${String(error)}`, {
          cause: first,
        });
      }
    }
  };

  const stoppers = new Set<() => Promise<void>>();

  const settle = async (
    consumer: ConsumerOptions,
    message: JsMsg,
    outcome: DeliveryOutcome,
    deliveryCount: number,
  ): Promise<void> => {
    if (outcome.kind === 'ack') return turn.sendSoon(() => message.ack());
    if (outcome.kind === 'retry' && deliveryCount < consumer.deliveryCountMax)
      return message.nak(backoffDelayMs(consumer.backoffMs, deliveryCount));
    const deadLetter = {
      subject: message.subject,
      id: message.headers?.get(MSG_ID_HEADER) ?? String(message.seq),
      reason: outcome.reason,
      deliveryCount,
    };
    await publish(
      `${options.deadLetterPrefix}.${message.subject}`,
      `dead:${deadLetter.id}`,
      { ...deadLetter, payload: codec.decode(message.data) },
      headersOf(message.headers),
    );
    message.term(outcome.reason);
    options.onDeadLetter?.(message.subject, outcome.reason);
  };

  const deliver = async (
    consumer: ConsumerOptions,
    message: JsMsg,
    handler: (message: BusMessage) => Promise<DeliveryOutcome>,
  ): Promise<void> => {
    const deliveryCount = message.info.redeliveryCount;
    let payload: JsonObject;
    try {
      payload = codec.decode(message.data);
    } catch (error: unknown) {
      return settle(
        consumer,
        message,
        { kind: 'dead_letter', reason: `undecodable: ${String(error)}` },
        deliveryCount,
      );
    }
    const id = message.headers?.get(MSG_ID_HEADER) ?? String(message.seq);
    let outcome: DeliveryOutcome;
    try {
      const headers = headersOf(message.headers);
      outcome = await handler({ subject: message.subject, id, payload, headers, deliveryCount });
    } catch (error: unknown) {
      outcome = { kind: 'retry', reason: String(error) };
    }
    await settle(consumer, message, outcome, deliveryCount);
  };

  /** One fetch loop per subject filter (nats-server 2.9 takes one filter per consumer). */
  const runLoop = (
    consumer: ConsumerOptions,
    subject: string,
    durable: string,
    handler: (message: BusMessage) => Promise<DeliveryOutcome>,
  ) => {
    let stopped = false;
    const streamName = subject.startsWith(`${options.deadLetterPrefix}.`)
      ? deadStreamName
      : options.streamName;
    const ensureConsumer = async (): Promise<void> => {
      await ensureStreams();
      await jsm.consumers.add(streamName, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: subject,
        ack_wait: nanos(consumer.ackWaitMs),
        max_deliver: consumer.deliveryCountMax + 1,
      });
    };
    let messages: ConsumerMessages | null = null;
    /**
     * A continuous pull: each message is handled as soon as it arrives (a fetch of a batch waited
     * for the batch to fill or expire, up to a second per message at a low rate), up to
     * fetchBatchMax at once, each acked alone. The saga engine orders a saga's own messages.
     */
    const drainMessages = async (source: ConsumerMessages): Promise<void> => {
      const inFlight = new Set<Promise<void>>();
      for await (const message of source) {
        const delivery: Promise<void> = deliver(consumer, message, handler).finally(() =>
          inFlight.delete(delivery),
        );
        inFlight.add(delivery);
        if (inFlight.size >= options.fetchBatchMax) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    };
    const loop = (async () => {
      while (!stopped) {
        try {
          await ensureConsumer();
          const pull = await js.consumers.get(streamName, durable);
          messages = await pull.consume({
            max_messages: options.fetchBatchMax,
            expires: options.fetchExpiresMs,
            // Ends the pull when the consumer vanished with the store: the loop re-creates it.
            abort_on_missing_resource: true,
          });
          if (stopped) messages.stop();
          await drainMessages(messages);
          if (!stopped) throw new Error('the pull ended');
        } catch (error: unknown) {
          if (!stopped) options.onWarning('bus_consumer_retry', { durable, error: String(error) });
          if (!stopped) await pause(options.retryPauseMs);
        }
      }
    })();
    return async (): Promise<void> => {
      stopped = true;
      messages?.stop();
      await loop;
    };
  };

  return {
    publish,
    connected: () => connected && !connection.isClosed(),
    deadLetterPrefix: options.deadLetterPrefix,
    consume: (consumer, handler) => {
      const stops = consumer.subjects.map((subject, index) =>
        runLoop(consumer, subject, `${consumer.durableName}_${index}`, handler),
      );
      const stop = async (): Promise<void> => {
        stoppers.delete(stop);
        await Promise.all(stops.map((each) => each()));
      };
      stoppers.add(stop);
      return Promise.resolve({ stop });
    },
    close: async () => {
      await Promise.all([...stoppers].map((stop) => stop()));
      turn.sendDue();
      publisher.close();
      await connection.drain().catch(() => connection.close());
    },
  };
};
