import { Subject, concatMap, filter, merge, mergeMap, type Subscription } from 'rxjs';
import { assert } from '../../domain/assert';
import type { JsonObject } from '../../domain/ports/event-store.port';
import type {
  BusHeaders,
  BusMessage,
  ConsumerOptions,
  DeliveryOutcome,
  MessageBus,
} from '../../domain/ports/bus.port';
import { backoffDelayMs, createSubjectMatcher } from './subject-match';

/**
 * The bus without NATS: rxjs subjects in this process. Like a JetStream stream it keeps the last
 * `retainedMessageCountMax` messages (a durable consumer started later replays them), drops a
 * repeated id within `duplicateWindowMs`, redelivers with back-off and dead-letters after
 * `deliveryCountMax`. Nothing survives a restart, which is fine: the event log is the record.
 * A consumer handles up to `deliveryConcurrencyMax` messages at once (handlers start in order);
 * its replay position only passes a message once every earlier one is done.
 */
type InProcessBusOptions = {
  retainedMessageCountMax: number;
  deliveryConcurrencyMax: number;
  duplicateWindowMs: number;
  deadLetterPrefix: string;
  clock: () => number;
  /** After a message is dead-lettered (metrics). */
  onDeadLetter?: (subject: string, reason: string) => void;
};

type Stored = {
  sequence: number;
  subject: string;
  id: string;
  payload: JsonObject;
  headers: BusHeaders;
};

export const createInProcessBus = (options: InProcessBusOptions): MessageBus => {
  assert(options.retainedMessageCountMax > 0, 'retainedMessageCountMax must be positive');
  assert(options.deliveryConcurrencyMax > 0, 'deliveryConcurrencyMax must be positive');
  // The last retainedMessageCountMax messages are retained[retainedStart..]; the dropped head is
  // cut off in one splice once it is as long as the window (shift() per message is O(n)).
  const retained: Stored[] = [];
  let retainedStart = 0;
  const seenUntilMs = new Map<string, number>();
  const published$ = new Subject<Stored>();
  const ackedThrough = new Map<string, number>();
  const running = new Set<Subscription>();
  let sequence = 0;

  const forgetExpiredIds = (nowMs: number): void => {
    for (const [id, untilMs] of seenUntilMs) {
      if (untilMs > nowMs) return; // Insertion order is expiry order.
      seenUntilMs.delete(id);
    }
  };

  const publish = (
    subject: string,
    id: string,
    payload: JsonObject,
    headers: BusHeaders = {},
  ): Promise<void> => {
    const nowMs = options.clock();
    forgetExpiredIds(nowMs);
    if (seenUntilMs.has(id)) return Promise.resolve();
    seenUntilMs.set(id, nowMs + options.duplicateWindowMs);
    sequence += 1;
    const stored = { sequence, subject, id, payload, headers };
    retained.push(stored);
    if (retained.length - retainedStart > options.retainedMessageCountMax) retainedStart += 1;
    if (retainedStart >= options.retainedMessageCountMax) {
      retained.splice(0, retainedStart);
      retainedStart = 0;
    }
    published$.next(stored);
    return Promise.resolve();
  };

  const consume = (
    consumer: ConsumerOptions,
    handler: (message: BusMessage) => Promise<DeliveryOutcome>,
  ) => {
    const matches = createSubjectMatcher(consumer.subjects);
    const wanted = (stored: Stored): boolean =>
      stored.sequence > (ackedThrough.get(consumer.durableName) ?? 0) && matches(stored.subject);
    const redeliver$ = new Subject<{ stored: Stored; deliveryCount: number }>();
    const timers = new Set<NodeJS.Timeout>();
    const unfinished = new Set<number>();
    let finishedMax = 0;
    let stopped = false;

    /** Every message below the oldest unfinished one is done: the replay position may pass it. */
    const finish = (sequenceDone: number): void => {
      unfinished.delete(sequenceDone);
      finishedMax = Math.max(finishedMax, sequenceDone);
      const oldest = unfinished.size === 0 ? finishedMax + 1 : Math.min(...unfinished);
      ackedThrough.set(
        consumer.durableName,
        Math.max(ackedThrough.get(consumer.durableName) ?? 0, oldest - 1),
      );
    };

    const deliver = async (stored: Stored, deliveryCount: number): Promise<void> => {
      if (stopped) return;
      unfinished.add(stored.sequence);
      let outcome: DeliveryOutcome;
      try {
        outcome = await handler({
          subject: stored.subject,
          id: stored.id,
          payload: stored.payload,
          headers: stored.headers,
          deliveryCount,
        });
      } catch (error: unknown) {
        outcome = { kind: 'retry', reason: String(error) };
      }
      if (outcome.kind === 'retry' && deliveryCount < consumer.deliveryCountMax) {
        const timer = setTimeout(
          () => {
            timers.delete(timer);
            redeliver$.next({ stored, deliveryCount: deliveryCount + 1 });
          },
          backoffDelayMs(consumer.backoffMs, deliveryCount),
        );
        timers.add(timer);
        return;
      }
      if (outcome.kind !== 'ack') {
        const deadLetter = {
          subject: stored.subject,
          id: stored.id,
          reason: outcome.reason,
          deliveryCount,
          payload: stored.payload,
        };
        await publish(
          `${options.deadLetterPrefix}.${stored.subject}`,
          `dead:${stored.id}`,
          deadLetter,
          stored.headers,
        );
        options.onDeadLetter?.(stored.subject, outcome.reason);
      }
      finish(stored.sequence);
    };

    const inFlight = new Set<Promise<void>>();
    const track = (delivery: Promise<void>): Promise<void> => {
      inFlight.add(delivery);
      return delivery.finally(() => inFlight.delete(delivery));
    };
    const fresh$ = merge(
      retained
        .slice(retainedStart)
        .filter(wanted)
        .map((stored) => ({ stored, deliveryCount: 1 })),
      published$.pipe(
        filter(wanted),
        concatMap(async (stored) => ({ stored, deliveryCount: 1 })),
      ),
    );
    const subscription = merge(fresh$, redeliver$)
      .pipe(
        mergeMap(
          (next) => track(deliver(next.stored, next.deliveryCount)),
          options.deliveryConcurrencyMax,
        ),
      )
      .subscribe();
    running.add(subscription);
    return Promise.resolve({
      stop: async () => {
        stopped = true;
        for (const timer of timers) clearTimeout(timer);
        subscription.unsubscribe();
        running.delete(subscription);
        await Promise.all(inFlight);
      },
    });
  };

  return {
    publish,
    consume,
    deadLetterPrefix: options.deadLetterPrefix,
    close: () => {
      for (const subscription of running) subscription.unsubscribe();
      running.clear();
      published$.complete();
      return Promise.resolve();
    },
  };
};
