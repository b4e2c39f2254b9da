import { ConflictRetriesExhaustedError } from '../actors/actor-errors';
import { answerStoredKeys, createBatchMailbox, type Queued } from '../actors/batch-mailbox';
import type { ActorEventHook, CommandContext } from '../actors/actor-runtime.types';
import { toUnhashed } from '../actors/batch-decide';
import {
  loadStream,
  toSavedSnapshot,
  type SnapshotOptions,
  type StreamSnapshot,
} from '../actors/stream-snapshot';
import { assert } from '../assert';
import type { RejectionDetail } from '../decision';
import { sealEvents, type UnhashedEvent } from '../event-chain';
import type {
  EventStore,
  IdempotencyRecord,
  StoredIdempotencyRecord,
  StreamAppend,
} from '../ports/event-store.port';
import type { StoredResponse } from '../ports/idempotency-store.port';
import {
  decideTrafficShardBatch,
  newTrafficShardState,
  trafficShardFold,
  type TrafficAnswer,
  type TrafficCommand,
  type TrafficRejection,
  type TrafficShardState,
  type TrafficShardView,
} from './traffic.decider';

/**
 * The traffic writer: the single writer of the traffic shards, built like the ledger. Requests
 * queue; the writer takes what has queued, decides every command against the shards it holds in
 * memory (each command seeing those before it), and writes the whole batch, with the requests'
 * Idempotency-Key records, as ONE atomic multi-stream append. The shards are plain maps the
 * writer owns: decideTrafficShardBatch only reads them, and the writer commits the batch's overlay
 * onto them (what applying its events would do) once the append has committed, so a refused or
 * failed append leaves them as they were. A node's report of any size is so
 * one durable round at most, shared with the reports that queued beside it, and its key exists
 * exactly when its usage does. A revision conflict (another instance wrote a shard) reloads the
 * shards and decides again.
 */
export type TrafficShardCommand = {
  shardId: string;
  command: TrafficCommand;
  /** Seeds deterministic event ids (see CommandContext.eventIdSeed); null: uuidv7. */
  eventIdSeed: string | null;
};

/** One command's outcome: its events' count and what its caller is told, or its rejection. */
export type TrafficOutcome =
  | { ok: true; eventCount: number; answer: TrafficAnswer }
  | { ok: false; rejection: TrafficRejection; detail: RejectionDetail };

export type TrafficRequest = {
  commands: readonly TrafficShardCommand[];
  context: CommandContext;
  idempotency: {
    scope: string;
    key: string;
    fingerprint: string;
    createdAtMs: number;
    /** The answer to store with the events; its data.position is filled in when it is sent. */
    respond: (outcomes: readonly TrafficOutcome[]) => StoredResponse;
  } | null;
};

export type TrafficReply =
  | {
      kind: 'decided';
      outcomes: readonly TrafficOutcome[];
      /** Position of the commit that made the request durable (null: nothing ever written). */
      position: bigint | null;
      response: StoredResponse | null;
    }
  /** Another request (another instance) stored this key first: answer with its record. */
  | { kind: 'replay'; record: StoredIdempotencyRecord };

type TrafficWriterLimits = {
  /** Commands queued before execute refuses with MailboxFullError (503). */
  mailboxCommandCountMax: number;
  /** Commands decided into one append (a request is never split). */
  batchCommandCountMax: number;
  conflictRetryCountMax: number;
  streamLoadEventCountMax: number;
};

export type TrafficWriter = {
  /** Decides the request's commands and resolves once they are durable (or refused). */
  execute(request: TrafficRequest): Promise<TrafficReply>;
  /**
   * A shard as the writer holds it (loaded if it is not in memory): read it before the next
   * await, the writer changes it in place after each commit (position tells the versions apart).
   */
  shard(shardId: string): Promise<{ state: TrafficShardView; position: bigint | null }>;
  /** Shard commands queued, not yet decided. */
  queuedCommandCount(): number;
  /** Waits for the batch in flight; later requests are refused. */
  close(): Promise<void>;
};

type Entry = StreamSnapshot<TrafficShardState> & { savedRevision: number | null };
type Pending = Queued<TrafficRequest, TrafficReply>;

const shardStreamOf = (shardId: string): string => `${trafficShardFold.category}-${shardId}`;

export const createTrafficWriter = (options: {
  store: EventStore;
  snapshots: SnapshotOptions | null;
  limits: TrafficWriterLimits;
  onEvent: ActorEventHook;
}): TrafficWriter => {
  const { store, snapshots, limits, onEvent } = options;
  // Sixteen shards: held for the writer's life, however many users they carry.
  const held = new Map<string, Entry>();
  const loading = new Map<string, Promise<Entry>>();

  const load = (stream: string): Promise<Entry> => {
    const entry = held.get(stream);
    if (entry !== undefined) return Promise.resolve(entry);
    const inFlight = loading.get(stream);
    if (inFlight !== undefined) return inFlight;
    const source = { store, snapshots, limits, onEvent };
    const loaded = loadStream(source, trafficShardFold, stream).then(
      ({ snapshot, savedRevision }) => {
        // A commit may have landed while this read was in flight: never go back behind it.
        const newer = held.get(stream);
        if (newer !== undefined && (newer.revision ?? -1) >= (snapshot.revision ?? -1))
          return newer;
        // An empty stream folds to the shared empty shard: the writer owns a fresh one instead.
        const state =
          snapshot.state === trafficShardFold.initialState
            ? newTrafficShardState()
            : snapshot.state;
        const loadedEntry: Entry = { ...snapshot, state, savedRevision };
        held.set(stream, loadedEntry);
        return loadedEntry;
      },
    );
    const settled = loaded.finally(() => loading.delete(stream));
    loading.set(stream, settled);
    return settled;
  };

  const runBatch = async (initial: readonly Pending[]): Promise<void> => {
    let batch = [...initial];
    for (let attempt = 1; batch.length > 0; attempt += 1) {
      const streams = new Set(
        batch.flatMap((r) => r.commands.map((c) => shardStreamOf(c.shardId))),
      );
      const working = new Map<string, Entry>();
      await Promise.all([...streams].map(async (s) => working.set(s, await load(s))));
      const decided = decideTrafficBatch(working, batch);
      const wrote = decided.appends.length > 0 || decided.records.length > 0;
      const result = wrote
        ? await store.appendMulti(decided.appends, decided.records)
        : ({ ok: true, streams: [], lastPosition: null } as const);
      if (result.ok) {
        for (const { stream, lastRevision, lastPosition } of result.streams) {
          const next = decided.next.get(stream);
          const entry = working.get(stream);
          assert(next !== undefined && entry !== undefined, `traffic: ${stream} not decided`);
          assert(held.get(stream) === entry, `traffic: ${stream} replaced while deciding`);
          assert(next.revision === lastRevision, `traffic: ${stream} append landed elsewhere`);
          try {
            next.commit(entry.state);
          } catch (error: unknown) {
            held.delete(stream); // Half applied: the next command reads the shard again.
            throw error;
          }
          const { tail } = next;
          const committed = { ...entry, revision: lastRevision, position: lastPosition, tail };
          held.set(stream, committed);
          saveSnapshotIfDue(stream, committed);
        }
        batch.forEach((request, index) => {
          const outcomes = decided.outcomes[index] ?? [];
          const response = decided.responses[index] ?? null;
          const position = wrote ? result.lastPosition : newestPosition(working, request);
          request.resolve({ kind: 'decided', outcomes, position, response });
        });
        return;
      }
      if (result.reason === 'idempotency_key_exists') {
        batch = answerStoredKeys(batch, result.existing);
        continue;
      }
      // Another writer got there first: read those shards again and decide again.
      result.conflicts.forEach(({ stream }) => held.delete(stream));
      onEvent('traffic_conflict', { attempt, streams: result.conflicts.map((c) => c.stream) });
      if (attempt > limits.conflictRetryCountMax)
        throw new ConflictRetriesExhaustedError(result.conflicts[0]?.stream ?? 'traffic', attempt);
    }
  };

  const saveSnapshotIfDue = (stream: string, entry: Entry): void => {
    const codec = trafficShardFold.snapshotCodec;
    if (snapshots === null || codec === undefined || entry.revision === null) return;
    if (entry.revision - (entry.savedRevision ?? -1) < snapshots.everyEventCount) return;
    const failed = (error: unknown) =>
      onEvent('snapshot_save_failed', { stream, revision: entry.revision, error });
    try {
      const saved = toSavedSnapshot(stream, codec, entry);
      if (saved === null) return;
      entry.savedRevision = saved.revision;
      snapshots.store.save(saved).catch(failed);
    } catch (error: unknown) {
      failed(error);
    }
  };

  const mailbox = createBatchMailbox<TrafficRequest, TrafficReply>({
    name: 'traffic',
    mailboxCommandCountMax: limits.mailboxCommandCountMax,
    batchCommandCountMax: limits.batchCommandCountMax,
    runBatch,
    onBatchFailed: (requestCount, error) =>
      onEvent('traffic_batch_failed', { requestCount, error }),
  });

  return {
    execute: mailbox.enqueue,
    shard: async (shardId) => {
      const stream = shardStreamOf(shardId);
      const loaded = await load(stream);
      // A commit may have landed since: its state is changed in place, so take its position too.
      const entry = held.get(stream) ?? loaded;
      return { state: entry.state, position: entry.position };
    },
    queuedCommandCount: mailbox.queuedCommandCount,
    close: mailbox.close,
  };
};

/** The newest position among the shards a request names (what a reader must wait for). */
const newestPosition = (working: Map<string, Entry>, request: TrafficRequest): bigint | null => {
  let newest: bigint | null = null;
  for (const { shardId } of request.commands) {
    const position = working.get(shardStreamOf(shardId))?.position ?? null;
    if (position !== null && (newest === null || position > newest)) newest = position;
  }
  return newest;
};

/** A shard's part of a batch: how to commit it onto the shard, and where its chain then ends. */
type ShardNext = {
  commit: (state: TrafficShardState) => void;
  revision: number;
  tail: Entry['tail'];
};

type TrafficBatchDecision = {
  appends: StreamAppend[];
  records: IdempotencyRecord[];
  outcomes: TrafficOutcome[][];
  responses: (StoredResponse | null)[];
  next: Map<string, ShardNext>;
};

type ShardGroup = {
  slots: { requestIndex: number; commandIndex: number }[];
  commands: TrafficCommand[];
  contexts: CommandContext[];
};

/**
 * The whole batch decided against `working`, shard by shard: a shard's commands in arrival order,
 * each seeing what the ones before it decided (decideTrafficShard). Shards are independent, so
 * the order between shards does not change any decision. Nothing of `working` is written.
 */
const decideTrafficBatch = (
  working: Map<string, Entry>,
  batch: readonly Pending[],
): TrafficBatchDecision => {
  const byStream = new Map<string, ShardGroup>();
  batch.forEach((request, requestIndex) =>
    request.commands.forEach(({ shardId, command, eventIdSeed }, commandIndex) => {
      const stream = shardStreamOf(shardId);
      let group = byStream.get(stream);
      if (group === undefined) {
        group = { slots: [], commands: [], contexts: [] };
        byStream.set(stream, group);
      }
      group.slots.push({ requestIndex, commandIndex });
      group.commands.push(command);
      group.contexts.push({ ...request.context, eventIdSeed });
    }),
  );
  const outcomes: TrafficOutcome[][] = batch.map(() => []);
  const appends: StreamAppend[] = [];
  const next = new Map<string, ShardNext>();
  for (const [stream, { slots, commands, contexts }] of byStream) {
    const before = working.get(stream);
    assert(before !== undefined, `traffic: ${stream} not loaded`);
    let eventCount = 0;
    const unhashed: UnhashedEvent[] = [];
    const decided = decideTrafficShardBatch(before.state, commands);
    decided.decisions.forEach((decision, index) => {
      const slot = slots[index];
      const context = contexts[index];
      assert(slot !== undefined && context !== undefined, 'traffic: a decision without command');
      const list = outcomes[slot.requestIndex];
      assert(list !== undefined, 'traffic: an outcome without its request');
      if (!decision.ok) {
        list[slot.commandIndex] = decision;
        return;
      }
      decision.events.forEach((event, eventIndex) => {
        eventCount += 1;
        unhashed.push(toUnhashed(trafficShardFold, event, eventIndex, context));
      });
      const { answer } = decision;
      list[slot.commandIndex] = { ok: true, eventCount: decision.events.length, answer };
    });
    if (eventCount === 0) continue;
    const sealed = sealEvents(stream, before.tail, unhashed);
    const revision = sealed.tail.nextRevision - 1;
    // Pairs the chain's own count with the revision the shard stood at.
    assert(revision === (before.revision ?? -1) + eventCount, `${stream}: batch revision drift`);
    const expected =
      before.revision === null
        ? { kind: 'no_stream' as const }
        : { kind: 'exact' as const, revision: before.revision };
    appends.push({ stream, events: sealed.events, expected });
    next.set(stream, { commit: decided.commit, revision, tail: sealed.tail });
  }
  const records: IdempotencyRecord[] = [];
  const responses = batch.map((request, index) => {
    const idempotency = request.idempotency;
    if (idempotency === null) return null;
    const response = idempotency.respond(outcomes[index] ?? []);
    const { scope, key, fingerprint, createdAtMs } = idempotency;
    records.push({ scope, key, fingerprint, createdAtMs, response });
    return response;
  });
  return { appends, records, outcomes, responses, next };
};

/** One command on one shard, without an Idempotency-Key (sagas and imports use natural ids). */
export const executeTrafficCommand = async (
  writer: TrafficWriter,
  command: TrafficShardCommand,
  context: CommandContext,
): Promise<TrafficOutcome> => {
  const reply = await writer.execute({ commands: [command], context, idempotency: null });
  const [outcome] = reply.kind === 'decided' ? reply.outcomes : [];
  assert(outcome !== undefined, `traffic: ${command.command.type} answered no outcome`);
  return outcome;
};
