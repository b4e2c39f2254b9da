import { LRUCache } from 'lru-cache';
import { parseStored } from '../../domain/aggregate';
import { paymentAggregate, paymentView } from '../../domain/payment/payment.decider';
import type {
  EventStore,
  EventSubscription,
  JsonValue,
  RecordedEvent,
} from '../../domain/ports/event-store.port';
import type { WebhookDelivery, WebhookStore } from '../../domain/ports/webhook-store.port';
import type { Mode } from '../../domain/mode/mode';
import { webhookNoticeAggregate } from '../../domain/webhook/webhook-notice.decider';
import {
  webhookTypeOfPaymentEvent,
  type WebhookEventType,
} from '../../domain/webhook/webhook.model';

/**
 * The log's follower that turns events into webhook deliveries: for each event a merchant's
 * endpoints subscribe to, one delivery per endpoint, stored with the follower's checkpoint in one
 * commit, so that a crash neither loses nor doubles one. It never sends anything itself and never
 * runs on the command path: the delivery worker sends what it stored.
 */
type WebhookFanoutOptions = {
  store: EventStore;
  webhooks: WebhookStore;
  clock: () => number;
  newId: () => string;
  /** Endpoints per merchant considered (the API refuses more). */
  endpointCountMax: number;
  /** Least time between two saves of the checkpoint when no delivery moves it. */
  checkpointIntervalMs: number;
  retryPauseMs: number;
  /** Payments whose state after their last event is kept (LRU): the next one folds onto it. */
  paymentStateCountMax: number;
  onWarning: (what: string, fields: Record<string, unknown>) => void;
  /** Called after deliveries were stored: the worker looks for due ones at once. */
  onEnqueued: () => void;
};

type Notified = {
  merchantId: string;
  /** Only endpoints of this mode hear of it: a test endpoint gets test events only. */
  mode: Mode;
  type: WebhookEventType;
  object: JsonValue;
  skip: string;
  /** The payment's own notifyUrl target (its id is the paymentId), if it named one. */
  notify: { endpointId: string; url: string } | null;
};

type PaymentState = typeof paymentAggregate.initialState;
/** A payment's state right after the event at `revision` of its stream. */
type FoldedPayment = { revision: number; state: PaymentState };

/**
 * The payment as it was right after `event`: folded onto the kept state of the event before it in
 * its stream (the follower sees a stream's events in order), else the stream read up to it.
 */
const paymentAt = async (
  store: EventStore,
  folded: LRUCache<string, FoldedPayment>,
  event: RecordedEvent,
) => {
  const before =
    event.revision === 0
      ? { revision: -1, state: paymentAggregate.initialState }
      : folded.get(event.stream);
  let state: PaymentState;
  if (before?.revision === event.revision - 1) {
    state = paymentAggregate.evolve(before.state, parseStored(paymentAggregate, event));
  } else {
    const events = await store.readStream(event.stream, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: event.revision + 1,
    });
    state = events.reduce(
      (current, stored) => paymentAggregate.evolve(current, parseStored(paymentAggregate, stored)),
      paymentAggregate.initialState,
    );
  }
  folded.set(event.stream, { revision: event.revision, state });
  return paymentView(state);
};

const notifiedOf = async (
  store: EventStore,
  folded: LRUCache<string, FoldedPayment>,
  event: RecordedEvent,
): Promise<Notified | null> => {
  if (event.stream.startsWith('payment-')) {
    const type = webhookTypeOfPaymentEvent(event.type);
    // An event no webhook is about still keeps a kept state current (a fold, no read).
    if (type === null && event.revision > 0 && !folded.has(event.stream)) return null;
    const payment = await paymentAt(store, folded, event);
    if (type === null || payment === null) return null;
    const { merchantId, mode, paymentId, notifyUrl } = payment;
    const notify = notifyUrl === null ? null : { endpointId: paymentId, url: notifyUrl };
    return { merchantId, mode, type, object: payment, skip: '', notify };
  }
  if (event.stream.startsWith('webhookendpoint-') && event.type === 'WebhookEndpointDisabled') {
    const notice = parseStored(webhookNoticeAggregate, event).data;
    const type = 'webhook_endpoint.disabled';
    // The disabled endpoint itself is told nothing: it is off.
    return {
      merchantId: notice.merchantId,
      mode: notice.mode ?? 'live',
      type,
      object: notice,
      skip: notice.endpointId,
      notify: null,
    };
  }
  return null;
};

export const createWebhookFanout = (options: WebhookFanoutOptions) => {
  let subscription: EventSubscription | null = null;
  let following: Promise<void> = Promise.resolve();
  let stopped = false;
  let savedAtMs = Number.NEGATIVE_INFINITY;
  let unsaved: bigint | null = null;
  const folded = new LRUCache<string, FoldedPayment>({ max: options.paymentStateCountMax });

  const deliveriesOf = async (event: RecordedEvent): Promise<WebhookDelivery[]> => {
    const notified = await notifiedOf(options.store, folded, event);
    if (notified === null) return [];
    const endpoints = await options.webhooks.listEndpoints(
      notified.merchantId,
      options.endpointCountMax,
    );
    const nowMs = options.clock();
    const targets = endpoints
      .filter(
        (endpoint) =>
          endpoint.enabled &&
          endpoint.mode === notified.mode &&
          endpoint.endpointId !== notified.skip &&
          endpoint.eventTypes.includes(notified.type),
      )
      .map((endpoint) => endpoint.endpointId);
    if (notified.notify !== null) {
      await options.webhooks.createEndpoint({
        ...notified.notify,
        kind: 'notify',
        merchantId: notified.merchantId,
        mode: notified.mode,
        eventTypes: [],
        description: '',
        enabled: true,
        secret: '',
        previousSecret: null,
        failingSinceMs: null,
        createdAtMs: nowMs,
      });
      targets.push(notified.notify.endpointId);
    }
    // Most payments' events reach no endpoint: their body is never built.
    if (targets.length === 0) return [];
    const body = JSON.stringify({
      id: event.id,
      type: notified.type,
      mode: notified.mode,
      createdAt: event.metadata.occurredAt,
      data: { object: notified.object },
    });
    return targets.map((endpointId) => ({
      deliveryId: options.newId(),
      eventId: event.id,
      eventType: notified.type,
      endpointId,
      merchantId: notified.merchantId,
      body,
      status: 'pending',
      failedAttemptCount: 0,
      nextAttemptAtMs: nowMs,
      createdAtMs: nowMs,
    }));
  };

  const handle = async (event: RecordedEvent): Promise<void> => {
    const deliveries = await deliveriesOf(event);
    const nowMs = options.clock();
    if (deliveries.length === 0 && nowMs < savedAtMs + options.checkpointIntervalMs) {
      unsaved = event.position;
      return;
    }
    await options.webhooks.enqueue(deliveries, event.position);
    savedAtMs = nowMs;
    unsaved = null;
    if (deliveries.length > 0) options.onEnqueued();
  };

  /** A failing event is retried after a pause, never skipped: deliveries are at least once. */
  const follow = async (source: EventSubscription): Promise<void> => {
    for await (const event of source) {
      for (;;) {
        try {
          await handle(event);
          break;
        } catch (error: unknown) {
          if (stopped) return;
          options.onWarning('webhook_fanout_failed', { eventId: event.id, error: String(error) });
          await new Promise((resolve) => setTimeout(resolve, options.retryPauseMs));
        }
      }
    }
  };

  return {
    async start(): Promise<void> {
      const afterPosition = await options.webhooks.loadCheckpoint();
      const source = options.store.subscribeToAll({ afterPosition });
      subscription = source;
      following = follow(source);
    },
    async stop(): Promise<void> {
      stopped = true;
      await subscription?.close();
      await following;
      if (unsaved !== null) await options.webhooks.enqueue([], unsaved);
    },
  };
};
