import { v7 as uuidv7 } from 'uuid';
import { accountAggregate, type AccountState } from '../account/account.decider';
import { toStored, type DomainEvent, type StreamFold } from '../aggregate';
import { ConflictRetriesExhaustedError } from '../actors/actor-errors';
import { answerStoredKeys, createBatchMailbox, type Queued } from '../actors/batch-mailbox';
import { createActorRegistry } from '../actors/actor-registry';
import { eventMetadataOf } from '../actors/batch-decide';
import type { ActorEventHook, CommandContext } from '../actors/actor-runtime.types';
import {
  emptySnapshot,
  loadStream,
  toSavedSnapshot,
  type SnapshotOptions,
  type StreamSnapshot,
} from '../actors/stream-snapshot';
import { assert } from '../assert';
import { sealEvents, type UnhashedEvent } from '../event-chain';
import type {
  EventStore,
  IdempotencyRecord,
  StoredIdempotencyRecord,
  StreamAppend,
  StreamAppendResult,
} from '../ports/event-store.port';
import type { StoredResponse } from '../ports/idempotency-store.port';
import { transferStream, type TransferState } from '../transfer/transfer.decider';
import {
  decideRequest,
  type LedgerChange,
  type LedgerCommand,
  type LedgerOutcome,
  type LedgerView,
  type LinkedCommand,
} from './ledger.decider';

/**
 * The ledger: the single writer of every account and transfer. Requests queue; the ledger takes
 * what has queued, loads the streams it lacks, decides the batch in arrival order with the pure
 * decideRequest (each accepted command visible to the next), and writes all of it, with the
 * requests' Idempotency-Key records, as ONE atomic multi-stream append. It answers after that
 * commit. A revision conflict (another instance wrote a stream) reloads those streams and
 * decides again.
 */
type LedgerIdempotency = {
  scope: string;
  key: string;
  fingerprint: string;
  createdAtMs: number;
  /** The answer to store with the events; its data.position is filled in when it is sent. */
  respond: (outcomes: readonly LedgerOutcome[]) => StoredResponse;
};

/**
 * Another stream's decided batch, committed in the SAME append as the request's events: a top-up
 * payment's success beside its wallet credit. It is appended whatever the commands' outcomes; the
 * commands' events only when every command was accepted (decide them as one linked chain).
 */
type CarriedAppend = StreamAppend & { records: readonly IdempotencyRecord[] };

export type LedgerRequest = {
  commands: readonly LinkedCommand[];
  context: CommandContext;
  idempotency: LedgerIdempotency | null;
  carried?: CarriedAppend;
};

export type LedgerReply =
  | {
      kind: 'decided';
      outcomes: readonly LedgerOutcome[];
      /** Position of the commit that made the request durable (null: nothing ever written). */
      position: bigint | null;
      response: StoredResponse | null;
      /** What became of the carried stream (null: the request carried none). */
      carried: CarriedResult | null;
    }
  /** Another request (another instance) stored this key first: answer with its record. */
  | { kind: 'replay'; record: StoredIdempotencyRecord };

/**
 * Committed: the carried stream's last revision. Conflict: another writer wrote the carried
 * stream first, nothing of the request was committed (outcomes empty) and its writer decides
 * again.
 */
type CarriedResult =
  { kind: 'committed'; lastRevision: number } | { kind: 'conflict'; revisionActual: number | null };

type LedgerLimits = {
  /** Commands queued before execute refuses with MailboxFullError (503). */
  mailboxCommandCountMax: number;
  /** Commands decided into one append (a request is never split). */
  batchCommandCountMax: number;
  conflictRetryCountMax: number;
  /** Account and transfer streams kept in memory (LRU), and their idle time. */
  actorCountMax: number;
  idleMsMax: number;
  streamLoadEventCountMax: number;
};

export type Ledger = {
  /** Decides the request's commands and resolves once they are durable (or refused). */
  execute(request: LedgerRequest): Promise<LedgerReply>;
  /** An account as the ledger holds it (loaded if it is not in memory). */
  account(accountId: string): Promise<Read<AccountState>>;
  transfer(transferId: string): Promise<Read<TransferState>>;
  /** Streams held in memory. */
  heldStreamCount(): number;
  /** Commands queued, not yet taken into a batch (the mailbox's depth). */
  queuedCommandCount(): number;
  /** Waits for the batch in flight; later requests are refused. */
  close(): Promise<void>;
};

type Read<State> = { state: State; position: bigint | null };
const recordKeyOf = (record: { scope: string; key: string }): string =>
  `${record.scope}\n${record.key}`;

/**
 * After an append refused for records stored first: a carried record already stored is durable
 * (the same callback applied by another writer), so it is left out and the batch decided again.
 */
const withoutStoredRecords = (
  batch: readonly Pending[],
  existing: readonly StoredIdempotencyRecord[],
): Pending[] => {
  const stored = new Set(existing.map(recordKeyOf));
  return batch.map((request) => {
    const carried = request.carried;
    if (carried === undefined || !carried.records.some((r) => stored.has(recordKeyOf(r))))
      return request;
    const records = carried.records.filter((record) => !stored.has(recordKeyOf(record)));
    return { ...request, carried: { ...carried, records } };
  });
};

/** Answers the requests whose carried stream conflicted and returns the others. */
const answerCarriedConflicts = (
  batch: readonly Pending[],
  conflicts: readonly { stream: string; revisionActual: number | null }[],
): Pending[] =>
  batch.filter((request) => {
    const conflict = conflicts.find(({ stream }) => stream === request.carried?.stream);
    if (conflict === undefined) return true;
    const carried = { kind: 'conflict' as const, revisionActual: conflict.revisionActual };
    request.resolve({ kind: 'decided', outcomes: [], position: null, response: null, carried });
    return false;
  });
type Entry = StreamSnapshot<unknown> & { savedRevision: number | null };
type Pending = Queued<LedgerRequest, LedgerReply>;
/**
 * A stream held in memory; `entry` null once forgotten (the registry then drops it). A class, so
 * that the registry's methods are shared, not three closures per held stream.
 */
class Held {
  constructor(
    public entry: Entry | null,
    public usedMs: number,
  ) {}
  isIdle(): true {
    return true;
  }
  lastUsedMs(): number {
    return this.usedMs;
  }
  committed(): Entry | null {
    return this.entry;
  }
}

const accountStreamOf = (id: string): string => `account-${id}`;
const transferStreamOf = (id: string): string => `transfer-${id}`;

/** The account and transfer ids a command names. */
const namesOf = (command: LedgerCommand): { accounts: string[]; transfers: string[] } => {
  switch (command.type) {
    case 'OpenAccount':
    case 'CloseAccount':
      return { accounts: [command.data.accountId], transfers: [] };
    case 'CreateTransfer':
      return {
        accounts: [command.data.debitAccountId, command.data.creditAccountId],
        transfers: [command.data.transferId],
      };
    case 'PostTransfer':
    case 'VoidTransfer':
    case 'FinishLegacyTransfer':
      return { accounts: [], transfers: [command.data.transferId] };
  }
};

export const createLedger = (options: {
  store: EventStore;
  snapshots: SnapshotOptions | null;
  limits: LedgerLimits;
  onEvent: ActorEventHook;
}): Ledger => {
  const { store, snapshots, limits, onEvent } = options;
  const registry = createActorRegistry<Held>(limits);
  const source = { store, snapshots, limits, onEvent };

  const loading = new Map<string, Promise<Entry>>();

  const hold = (stream: string, entry: Entry): void => {
    const held = registry.touch(stream);
    if (held !== undefined) {
      held.entry = entry;
      held.usedMs = Date.now();
      return;
    }
    registry.add(stream, new Held(entry, Date.now()));
  };

  const forget = (stream: string): void => {
    const held = registry.peek(stream);
    if (held === undefined) return;
    held.entry = null;
    registry.settled(stream, held);
  };

  const load = <E extends DomainEvent, S>(
    fold: StreamFold<E, S>,
    stream: string,
  ): Promise<Entry> => {
    const held = registry.touch(stream)?.entry;
    if (held != null) return Promise.resolve(held);
    const inFlight = loading.get(stream);
    if (inFlight !== undefined) return inFlight;
    const loaded = loadStream(source, fold, stream).then(({ snapshot, savedRevision }) => {
      // A commit may have landed while this read was in flight: never go back behind it.
      const newer = registry.peek(stream)?.entry;
      if (newer != null && (newer.revision ?? -1) >= (snapshot.revision ?? -1)) return newer;
      const entry: Entry = { ...snapshot, savedRevision };
      hold(stream, entry);
      return entry;
    });
    const settled = loaded.finally(() => loading.delete(stream));
    loading.set(stream, settled);
    return settled;
  };
  const loadAccount = (id: string) => load(accountAggregate, accountStreamOf(id));
  const loadTransfer = (id: string) => load(transferStream, transferStreamOf(id));

  /**
   * Every stream the batch names, loaded: the working set the decision runs against. The
   * accounts of a post or void are those of the transfer, so transfers load first.
   */
  const loadBatch = async (
    batch: readonly Pending[],
    mustRead: ReadonlySet<string>,
  ): Promise<Map<string, Entry>> => {
    const accounts = new Set<string>();
    const transfers = new Set<string>();
    const created = new Set<string>();
    for (const request of batch)
      for (const { command } of request.commands) {
        const names = namesOf(command);
        names.accounts.forEach((id) => accounts.add(id));
        if (command.type === 'CreateTransfer') created.add(command.data.transferId);
        else names.transfers.forEach((id) => transfers.add(id));
      }
    const working = new Map<string, Entry>();
    // A transfer id that is only being created and is not in memory is taken to be new without
    // reading its stream: the append's no_stream guard finds out if it is not, and the retry
    // after that conflict reads it.
    for (const id of created) {
      if (transfers.has(id)) continue;
      const stream = transferStreamOf(id);
      const held = registry.touch(stream)?.entry;
      if (held != null) working.set(stream, held);
      else if (mustRead.has(stream)) transfers.add(id);
      else
        working.set(stream, { ...emptySnapshot(transferStream.initialState), savedRevision: null });
    }
    await Promise.all(
      [...transfers].map(async (id) => working.set(transferStreamOf(id), await loadTransfer(id))),
    );
    for (const entry of working.values()) {
      const transfer = entry.state as TransferState;
      if (transfer.status === 'none') continue;
      accounts.add(transfer.terms.debitAccountId);
      accounts.add(transfer.terms.creditAccountId);
    }
    await Promise.all(
      [...accounts].map(async (id) => working.set(accountStreamOf(id), await loadAccount(id))),
    );
    return working;
  };

  /** Decides and appends one batch, reloading and deciding again after a conflict. */
  const runBatch = async (initial: readonly Pending[]): Promise<void> => {
    let batch = [...initial];
    const mustRead = new Set<string>();
    for (let attempt = 1; batch.length > 0; attempt += 1) {
      const carried = new Set(batch.flatMap(({ carried }) => carried?.stream ?? []));
      const working = await loadBatch(batch, mustRead);
      const decided = decideBatch(working, batch);
      if (decided.stale) {
        // Read while another instance wrote: forget what the batch read, and read it again.
        [...working.keys()].forEach(forget);
        onEvent('ledger_stale_read', { attempt });
        if (attempt > limits.conflictRetryCountMax)
          throw new ConflictRetriesExhaustedError('ledger', attempt);
        continue;
      }
      const wrote = decided.appends.length > 0 || decided.records.length > 0;
      const result = wrote
        ? await store.appendMulti(decided.appends, decided.records)
        : ({ ok: true, streams: [], lastPosition: null } as const);
      if (result.ok) {
        commit(
          decided.next,
          result.streams.filter(({ stream }) => !carried.has(stream)),
        );
        onEvent('ledger_batch_appended', {
          requestCount: batch.length,
          streamCount: decided.appends.length,
        });
        batch.forEach((request, index) => {
          const outcomes = decided.outcomes[index] ?? [];
          const response = decided.responses[index] ?? null;
          const position = wrote ? result.lastPosition : (decided.positionBefore[index] ?? null);
          const stream = request.carried?.stream;
          const written = result.streams.find((appended) => appended.stream === stream);
          const carried =
            written === undefined
              ? null
              : { kind: 'committed' as const, lastRevision: written.lastRevision };
          request.resolve({ kind: 'decided', outcomes, position, response, carried });
        });
        return;
      }
      if (result.reason === 'idempotency_key_exists') {
        batch = withoutStoredRecords(answerStoredKeys(batch, result.existing), result.existing);
        continue;
      }
      // A carried stream's writer decides again itself; of the ledger's own streams, forget what
      // we hold and decide again.
      batch = answerCarriedConflicts(batch, result.conflicts);
      result.conflicts.forEach(({ stream }) => {
        if (carried.has(stream)) return;
        forget(stream);
        mustRead.add(stream);
      });
      onEvent('ledger_conflict', { attempt, streams: result.conflicts.map((c) => c.stream) });
      if (attempt > limits.conflictRetryCountMax)
        throw new ConflictRetriesExhaustedError(result.conflicts[0]?.stream ?? 'ledger', attempt);
    }
  };

  const commit = (next: Map<string, Entry>, written: readonly StreamAppendResult[]): void => {
    for (const { stream, lastRevision, lastPosition } of written) {
      const entry = next.get(stream);
      assert(entry !== undefined, `ledger: ${stream} appended but not decided`);
      assert(entry.revision === lastRevision, `ledger: ${stream} append landed elsewhere`);
      const committed = { ...entry, position: lastPosition };
      hold(stream, committed);
      saveSnapshotIfDue(stream, committed);
    }
    registry.evictOverflow();
  };

  const saveSnapshotIfDue = (stream: string, entry: Entry): void => {
    const codec = accountAggregate.snapshotCodec;
    if (snapshots === null || codec === undefined || !stream.startsWith('account-')) return;
    if (entry.revision === null) return;
    if (entry.revision - (entry.savedRevision ?? -1) < snapshots.everyEventCount) return;
    const failed = (error: unknown) =>
      onEvent('snapshot_save_failed', { stream, revision: entry.revision, error });
    try {
      const saved = toSavedSnapshot(stream, codec, entry as StreamSnapshot<AccountState>);
      if (saved === null) return;
      entry.savedRevision = saved.revision;
      snapshots.store.save(saved).catch(failed);
    } catch (error: unknown) {
      failed(error);
    }
  };

  const mailbox = createBatchMailbox<LedgerRequest, LedgerReply>({
    name: 'ledger',
    mailboxCommandCountMax: limits.mailboxCommandCountMax,
    batchCommandCountMax: limits.batchCommandCountMax,
    runBatch,
    onBatchFailed: (requestCount, error) => onEvent('ledger_batch_failed', { requestCount, error }),
  });

  return {
    execute: mailbox.enqueue,
    account: async (id) => {
      const entry = await loadAccount(id);
      return { state: entry.state as AccountState, position: entry.position };
    },
    transfer: async (id) => {
      const entry = await loadTransfer(id);
      return { state: entry.state as TransferState, position: entry.position };
    },
    heldStreamCount: () => registry.size(),
    queuedCommandCount: mailbox.queuedCommandCount,
    close: async () => {
      registry.stop();
      await mailbox.close();
    },
  };
};

type BatchDecision = {
  /** Some request saw a view that contradicts itself: nothing of this decision may be kept. */
  stale: boolean;
  appends: StreamAppend[];
  records: IdempotencyRecord[];
  outcomes: (readonly LedgerOutcome[])[];
  responses: (StoredResponse | null)[];
  /** For a request that wrote nothing: the position of what it read. */
  positionBefore: (bigint | null)[];
  next: Map<string, Entry>;
};

/** The whole batch decided against `working`: what to append and what each request gets. */
const decideBatch = (working: Map<string, Entry>, batch: readonly Pending[]): BatchDecision => {
  const states = new Map<string, unknown>();
  const stateOf = (stream: string): unknown => {
    if (states.has(stream)) return states.get(stream);
    const entry = working.get(stream);
    assert(entry !== undefined, `ledger: ${stream} not loaded`);
    return entry.state;
  };
  const view: LedgerView = {
    account: (id) => stateOf(accountStreamOf(id)) as AccountState,
    transfer: (id) => stateOf(transferStreamOf(id)) as TransferState,
  };
  const unhashed = new Map<string, UnhashedEvent[]>();
  const records: IdempotencyRecord[] = [];
  const outcomes: (readonly LedgerOutcome[])[] = [];
  const responses: (StoredResponse | null)[] = [];
  const positionBefore: (bigint | null)[] = [];
  let stale = false;
  const carried: StreamAppend[] = [];
  for (const request of batch) {
    const decision = decideRequest(view, request.commands, request.context.now);
    stale ||= decision.stale;
    if (request.carried !== undefined) {
      const { stream, events, expected, records: carriedRecords } = request.carried;
      const append = { stream, events, expected }; // Not an object rest: microseconds in V8.
      // A refused chain has rolled its events back: the carried stream commits alone.
      assert(
        decision.outcomes.every(({ ok }) => ok) || decision.changes.length === 0,
        `ledger: ${append.stream} carried beside a partly refused request`,
      );
      carried.push(append);
      records.push(...carriedRecords);
    }
    decision.accounts.forEach((state, id) => states.set(accountStreamOf(id), state));
    decision.transfers.forEach((state, id) => states.set(transferStreamOf(id), state));
    // One metadata object for the request's events: the hash chain makes its text once.
    const metadata = eventMetadataOf(request.context);
    for (const change of decision.changes) {
      const stream =
        change.category === 'account' ? accountStreamOf(change.id) : transferStreamOf(change.id);
      const list = unhashed.get(stream) ?? [];
      list.push(toUnhashed(change, metadata));
      unhashed.set(stream, list);
    }
    outcomes.push(decision.outcomes);
    positionBefore.push(
      decision.changes.length > 0 ? null : positionOfStreams(working, request.commands),
    );
    const idempotency = request.idempotency;
    const response = idempotency === null ? null : idempotency.respond(decision.outcomes);
    responses.push(response);
    if (idempotency !== null && response !== null) {
      const { scope, key, fingerprint, createdAtMs } = idempotency;
      records.push({ scope, key, fingerprint, createdAtMs, response });
    }
  }
  const appends: StreamAppend[] = [];
  const next = new Map<string, Entry>();
  for (const [stream, events] of unhashed) {
    const before = working.get(stream);
    assert(before !== undefined, `ledger: ${stream} not loaded`);
    const sealed = sealEvents(stream, before.tail, events);
    const expected =
      before.revision === null
        ? { kind: 'no_stream' as const }
        : { kind: 'exact' as const, revision: before.revision };
    appends.push({ stream, events: sealed.events, expected });
    next.set(stream, {
      state: stateOf(stream),
      revision: sealed.tail.nextRevision - 1,
      position: null,
      tail: sealed.tail,
      savedRevision: before.savedRevision,
    });
  }
  appends.push(...carried);
  return { stale, appends, records, outcomes, responses, positionBefore, next };
};

/** The newest position among the streams a request names (what a reader must wait for). */
const positionOfStreams = (
  working: Map<string, Entry>,
  commands: readonly LinkedCommand[],
): bigint | null => {
  let newest: bigint | null = null;
  for (const { command } of commands) {
    const names = namesOf(command);
    const streams = [
      ...names.accounts.map(accountStreamOf),
      ...names.transfers.map(transferStreamOf),
    ];
    for (const stream of streams) {
      const position = working.get(stream)?.position ?? null;
      if (position !== null && (newest === null || position > newest)) newest = position;
    }
  }
  return newest;
};

const toUnhashed = (change: LedgerChange, metadata: UnhashedEvent['metadata']): UnhashedEvent => {
  const { data, schemaVersion } =
    change.category === 'account'
      ? toStored(accountAggregate, change.event)
      : toStored(transferStream, change.event);
  const versioned =
    schemaVersion === metadata.schemaVersion ? metadata : { ...metadata, schemaVersion };
  return { id: uuidv7(), type: change.event.type, data, metadata: versioned };
};
