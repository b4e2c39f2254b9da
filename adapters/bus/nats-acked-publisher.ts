import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from 'nats';

/**
 * JetStream publishes pipelined on one reply subscription, as the Go client's PublishAsync: each
 * publish is a plain message whose reply subject names it under one inbox, and the server's
 * PubAck (or error) on that subject settles its promise. nats.js's `js.publish` is a request per
 * message (a reply route, a timer and a captured stack each); here a burst of publishes costs one
 * map entry each, goes out in one socket write, and one timer watches every ack still awaited.
 * The caller's `send` decides when a message goes out (the bus sends a turn's messages together).
 */
type AckedPublisherOptions = {
  /** A publish not acknowledged within this time fails (the caller retries it, same message id). */
  ackTimeoutMs: number;
  clock: () => number;
  /** Runs (now or soon) the call that hands a message to the connection. */
  send: (publish: () => void) => void;
};

/**
 * What the bus sends in one event-loop turn (publishes, acks) goes out together at its end:
 * nats.js writes what was queued in one microtask in one socket write, so a turn that published
 * a relay window and finished many deliveries costs one write, not one per burst and per ack.
 * Nothing waits longer than the turn (and a burst of TURN_SEND_COUNT_MAX goes at once); an ack
 * sent a turn late is still well within ackWaitMs.
 */
const TURN_SEND_COUNT_MAX = 128;

export const createTurnSender = () => {
  let due: (() => void)[] = [];
  const sendDue = (): void => {
    const sends = due;
    due = [];
    for (const send of sends) send();
  };
  return {
    sendDue,
    sendSoon: (send: () => void): void => {
      if (due.length === 0) setImmediate(sendDue);
      due.push(send);
      // A large burst (a relay window) goes now: the server stores it while the relay reads on.
      if (due.length >= TURN_SEND_COUNT_MAX) sendDue();
    },
  };
};

type Awaited = { resolve: () => void; reject: (error: Error) => void; sentAtMs: number };

type AckedPublisher = {
  /** Resolves once the stream stored the message (or already held its id); rejects otherwise. */
  publish(subject: string, data: Uint8Array, headers: MsgHdrs): Promise<void>;
  /** Fails every publish still awaited and ends the reply subscription. */
  close(): void;
};

const utf8 = new TextDecoder();

/** The PubAck's verdict: null when stored, else why not. */
const refusalOf = (reply: Msg): string | null => {
  if (reply.headers?.hasError === true)
    return `${reply.headers.code} ${reply.headers.description || 'no stream answered'}`;
  let ack: unknown;
  try {
    ack = JSON.parse(utf8.decode(reply.data));
  } catch {
    return 'unreadable publish acknowledgement';
  }
  if (typeof ack !== 'object' || ack === null) return 'unreadable publish acknowledgement';
  const { error, stream } = ack as { error?: { description?: unknown }; stream?: unknown };
  if (error !== undefined) return `publish refused: ${String(error.description)}`;
  return typeof stream === 'string' && stream !== ''
    ? null
    : 'publish acknowledgement names no stream';
};

export const createAckedPublisher = (
  connection: NatsConnection,
  options: AckedPublisherOptions,
): AckedPublisher => {
  const inbox = createInbox();
  const awaited = new Map<string, Awaited>();
  let nextToken = 0;
  let timer: NodeJS.Timeout | null = null;

  const settle = (token: string, refusal: string | null): void => {
    const entry = awaited.get(token);
    if (entry === undefined) return; // Timed out earlier: the caller has retried already.
    awaited.delete(token);
    if (refusal === null) entry.resolve();
    else entry.reject(new Error(refusal));
  };

  const subscription = connection.subscribe(`${inbox}.*`, {
    callback: (error, reply) => {
      if (error !== null) return;
      settle(reply.subject.slice(inbox.length + 1), refusalOf(reply));
    },
  });

  /** One timer for every awaited ack, due when the oldest one expires; re-armed while any remain. */
  const watch = (): void => {
    const oldest = awaited.values().next();
    if (timer !== null || oldest.done === true) return;
    const delayMs = Math.max(0, oldest.value.sentAtMs + options.ackTimeoutMs - options.clock());
    timer = setTimeout(() => {
      timer = null;
      const expiredBeforeMs = options.clock() - options.ackTimeoutMs;
      for (const [token, entry] of awaited) {
        if (entry.sentAtMs > expiredBeforeMs) break; // Insertion order is send order.
        settle(token, `no publish acknowledgement within ${options.ackTimeoutMs} ms`);
      }
      watch();
    }, delayMs);
    timer.unref();
  };

  return {
    publish: (subject, data, headers) =>
      new Promise<void>((resolve, reject) => {
        nextToken += 1;
        const token = nextToken.toString(36);
        awaited.set(token, { resolve, reject, sentAtMs: options.clock() });
        watch();
        options.send(() => {
          try {
            connection.publish(subject, data, { reply: `${inbox}.${token}`, headers });
          } catch (error: unknown) {
            settle(token, `publish failed: ${String(error)}`);
          }
        });
      }),
    close: () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      for (const token of [...awaited.keys()]) settle(token, 'the bus closed');
      subscription.unsubscribe();
    },
  };
};
