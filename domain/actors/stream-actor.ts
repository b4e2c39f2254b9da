import type { Aggregate, DomainEvent } from '../aggregate';
import { assert } from '../assert';
import type { EventStore, ExpectedRevision } from '../ports/event-store.port';
import {
  ConflictRetriesExhaustedError,
  MAILBOX_RETRY_AFTER_MS,
  MailboxFullError,
} from './actor-errors';
import type {
  ActorEventHook,
  ActorRuntimeLimits,
  BatchAppender,
  CommandContext,
  CommandOutcome,
} from './actor-runtime.types';
import { decideBatch, type DecidedCommand, type QueuedCommand } from './batch-decide';
import { recordsOf } from './stream-append';
import {
  loadStream,
  toSavedSnapshot,
  type SnapshotOptions,
  type StreamSnapshot,
} from './stream-snapshot';

/** The single writer of one stream inside this process: a mailbox drained batch by batch. */
export type StreamActor<Command, State, Rejection extends string> = {
  /** Queues a command; rejects at once with MailboxFullError when the mailbox is full. */
  enqueue(command: Command, context: CommandContext): Promise<CommandOutcome<State, Rejection>>;
  /** The last durably appended snapshot; null before the first load or after a drop. */
  committed(): StreamSnapshot<State> | null;
  /** No batch in flight and nothing queued: safe to evict. */
  isIdle(): boolean;
  /** Date.now() of the last enqueue or of the end of the last drain. */
  lastUsedMs(): number;
  /** Settles when the current drain has finished (at once when idle). */
  drained(): Promise<void>;
};

type StreamActorOptions<C, E extends DomainEvent, S, R extends string> = {
  store: EventStore;
  aggregate: Aggregate<C, E, S, R>;
  stream: string;
  limits: ActorRuntimeLimits;
  /** null: the actor neither reads nor saves snapshots. */
  snapshots: SnapshotOptions | null;
  onEvent: ActorEventHook;
  /** Makes a decided batch durable (the event store, or the category's own appender). */
  append: BatchAppender;
  /** Called each time the mailbox has drained. */
  onIdle: () => void;
};

type Pending<C, S, R extends string> = QueuedCommand<C> & {
  resolve: (outcome: CommandOutcome<S, R>) => void;
  reject: (error: unknown) => void;
};

/**
 * The actor's memory of its stream (null: reload before the next decision) and the revision of
 * the last snapshot saved or loaded (null: none yet).
 */
type Cell<S> = { snapshot: StreamSnapshot<S> | null; savedRevision: number | null };

export const createStreamActor = <C, E extends DomainEvent, S, R extends string>(
  options: StreamActorOptions<C, E, S, R>,
): StreamActor<C, S, R> => {
  const mailbox: Pending<C, S, R>[] = [];
  const cell: Cell<S> = { snapshot: null, savedRevision: null };
  let busy = false;
  let drainedPromise: Promise<void> = Promise.resolve();
  let lastUsedMs = Date.now();

  const drain = async (): Promise<void> => {
    while (mailbox.length > 0) {
      // Loading before taking the batch lets commands that arrive during the load join it.
      const loaded = await ensureLoaded(options, cell);
      const batch = mailbox.splice(0, options.limits.batchCommandCountMax);
      const failed = (error: unknown) => drop(options, cell, batch, error);
      if (loaded.ok) await runBatch(options, cell, batch).catch(failed);
      else failed(loaded.error);
    }
    busy = false; // Same tick as the empty check: no command can slip in unserved.
    lastUsedMs = Date.now();
    options.onIdle();
  };

  return {
    enqueue: (command, context) => {
      lastUsedMs = Date.now();
      if (mailbox.length >= options.limits.mailboxDepthMax) {
        return Promise.reject(new MailboxFullError(options.stream, MAILBOX_RETRY_AFTER_MS));
      }
      const outcome = new Promise<CommandOutcome<S, R>>((resolve, reject) => {
        mailbox.push({ command, context, resolve, reject });
      });
      if (!busy) {
        busy = true;
        drainedPromise = drain();
      }
      return outcome;
    },
    committed: () => cell.snapshot,
    isIdle: () => !busy && mailbox.length === 0,
    lastUsedMs: () => lastUsedMs,
    drained: () => drainedPromise,
  };
};

/** Loads the stream into the cell, then saves a snapshot if the load folded enough events. */
const load = async <C, E extends DomainEvent, S, R extends string>(
  options: StreamActorOptions<C, E, S, R>,
  cell: Cell<S>,
): Promise<StreamSnapshot<S>> => {
  const loaded = await loadStream(options, options.aggregate, options.stream);
  cell.snapshot = loaded.snapshot;
  cell.savedRevision = loaded.savedRevision;
  saveSnapshotIfDue(options, cell);
  return loaded.snapshot;
};

/**
 * Saves the cell's state once it is snapshots.everyEventCount events past the last snapshot.
 * Runs after durable appends, so it never throws: a failure is reported and the next due
 * revision tries again.
 */
const saveSnapshotIfDue = <C, E extends DomainEvent, S, R extends string>(
  options: StreamActorOptions<C, E, S, R>,
  cell: Cell<S>,
): void => {
  const { snapshots, aggregate, stream, onEvent } = options;
  const codec = aggregate.snapshotCodec;
  const current = cell.snapshot;
  if (snapshots === null || codec === undefined || current?.revision == null) return;
  if (current.revision - (cell.savedRevision ?? -1) < snapshots.everyEventCount) return;
  const failed = (error: unknown) =>
    onEvent('snapshot_save_failed', { stream, revision: current.revision, error });
  try {
    const saved = toSavedSnapshot(stream, codec, current);
    if (saved === null) return;
    cell.savedRevision = saved.revision;
    snapshots.store.save(saved).catch(failed);
  } catch (error: unknown) {
    failed(error);
  }
};

const ensureLoaded = async <C, E extends DomainEvent, S, R extends string>(
  options: StreamActorOptions<C, E, S, R>,
  cell: Cell<S>,
): Promise<{ ok: true } | { ok: false; error: unknown }> => {
  if (cell.snapshot !== null) return { ok: true };
  try {
    await load(options, cell);
    return { ok: true };
  } catch (error: unknown) {
    return { ok: false, error };
  }
};

/**
 * Decides and appends one batch, with the records of its commands that produced events, reloading
 * and re-deciding on each conflict.
 */
const runBatch = async <C, E extends DomainEvent, S, R extends string>(
  options: StreamActorOptions<C, E, S, R>,
  cell: Cell<S>,
  batch: readonly Pending<C, S, R>[],
): Promise<void> => {
  const { aggregate, stream, limits, onEvent } = options;
  for (let attempt = 1; ; attempt += 1) {
    const before = cell.snapshot ?? (await load(options, cell));
    const { decided, events, next } = decideBatch(aggregate, stream, before, batch);
    if (events.length === 0) return settle(batch, before, decided, before.position);
    const writer = batch.find((_pending, index) => {
      const outcome = decided[index];
      return outcome?.ok === true && outcome.eventCount > 0;
    });
    assert(writer !== undefined, `${stream}: events without a command that produced them`);
    const result = await options.append({
      stream,
      events,
      expected: expectedRevision(before),
      records: recordsOf(batch, decided),
      stateAfter: next.state,
      context: writer.context,
    });
    if (result.ok) {
      assert(result.lastRevision === next.revision, `${stream}: append landed elsewhere`);
      cell.snapshot = { ...next, position: result.lastPosition };
      saveSnapshotIfDue(options, cell);
      const eventCount = events.length;
      onEvent('batch_appended', { stream, commandCount: batch.length, eventCount });
      return settle(batch, before, decided, result.lastPosition);
    }
    cell.snapshot = null; // Another writer got there first: what we hold is stale.
    onEvent('actor_conflict', { stream, attempt, revisionActual: result.revisionActual });
    if (attempt > limits.conflictRetryCountMax) {
      throw new ConflictRetriesExhaustedError(stream, attempt);
    }
  }
};

// After a failed append or a throwing decider the in-memory state may be ahead of (or behind)
// the store: forget it, so the next batch reloads.
const drop = <C, E extends DomainEvent, S, R extends string>(
  options: StreamActorOptions<C, E, S, R>,
  cell: Cell<S>,
  batch: readonly Pending<C, S, R>[],
  error: unknown,
): void => {
  cell.snapshot = null;
  batch.forEach((pending) => pending.reject(error));
  options.onEvent('actor_dropped', { stream: options.stream, commandCount: batch.length, error });
};

const expectedRevision = ({ revision }: StreamSnapshot<unknown>): ExpectedRevision =>
  revision === null ? { kind: 'no_stream' } : { kind: 'exact', revision };

/** Resolves every command of a batch once it is durable (or needed no append). */
const settle = <C, S, R extends string>(
  batch: readonly Pending<C, S, R>[],
  before: StreamSnapshot<S>,
  decided: readonly DecidedCommand<S, R>[],
  lastPosition: bigint | null,
): void => {
  batch.forEach((pending, index) => {
    const outcome = decided[index];
    assert(outcome !== undefined, 'settle: one decision per command');
    // Commands that saw this batch's events are durable at the append's position.
    const position = outcome.revision === before.revision ? before.position : lastPosition;
    pending.resolve({ ...outcome, position });
  });
};
