import { accountAggregate, type AccountState } from '../domain/account/account.decider';
import { parseStored } from '../domain/aggregate';
import { createBalanceAudit, type BalanceReport } from '../domain/audit/balance-audit';
import { EMPTY_CHAIN, verifyChain, type ChainBreak, type ChainTail } from '../domain/event-chain';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.port';
import type { ReadModelStore } from '../domain/ports/read-model-store.port';
import { ACCOUNTS, accountStateOfDocument } from './accounts.projection';
import { positionKeyOf } from './projection';
import { checkpointOf, collectionIn } from './read-models';

/**
 * The auditor's checks, over the event store port only (and the read models for reconcile):
 * export, hash-chain verification, the per-currency Σ = 0 check and reconciliation of balances
 * recomputed from events against the read models.
 */
const PAGE_EVENT_COUNT_MAX = 1000;
const MISMATCHES_LISTED_MAX = 100;

/** Told after each page: events visited so far and the position of the last one. */
export type PageProgress = (eventCount: number, position: bigint) => void;

/** Calls visit for every event of the global log after `afterPosition` (up to `until`), in order. */
export const forEachEvent = async (
  store: EventStore,
  visit: (event: RecordedEvent) => void | Promise<void>,
  range: { afterPosition: bigint | null; untilPosition: bigint | null } = {
    afterPosition: null,
    untilPosition: null,
  },
  onPage: PageProgress = () => undefined,
): Promise<number> => {
  let afterPosition = range.afterPosition;
  let count = 0;
  for (;;) {
    const page = await store.readAll({ afterPosition, eventCountMax: PAGE_EVENT_COUNT_MAX });
    for (const event of page) {
      if (range.untilPosition !== null && event.position > range.untilPosition) return count;
      await visit(event);
      count += 1;
    }
    const last = page[page.length - 1];
    if (last === undefined) return count;
    onPage(count, last.position);
    afterPosition = last.position;
  }
};

/** An event as one JSON line (positions as decimal strings). */
export const eventJsonLine = (event: RecordedEvent): string =>
  JSON.stringify({ ...event, position: event.position.toString() });

/** Σ credits − Σ debits per currency over every account, from the log alone. */
export const auditBalances = async (
  store: EventStore,
  onPage?: PageProgress,
): Promise<BalanceReport> => {
  const audit = createBalanceAudit();
  await forEachEvent(store, (event) => audit.apply(event), undefined, onPage);
  return audit.report();
};

type ChainReport = { eventCount: number; streamCount: number; broken: ChainBreak | null };

/** Recomputes every stream's hash chain and reports the first broken link. */
export const verifyChains = async (
  store: EventStore,
  onPage?: PageProgress,
): Promise<ChainReport> => {
  const tails = new Map<string, ChainTail>();
  let broken: ChainBreak | null = null;
  const eventCount = await forEachEvent(
    store,
    (event) => {
      if (broken !== null) return;
      const checked = verifyChain(tails.get(event.stream) ?? EMPTY_CHAIN, [event]);
      if (checked.ok) tails.set(event.stream, checked.tail);
      else broken = checked.broken;
    },
    undefined,
    onPage,
  );
  return { eventCount, streamCount: tails.size, broken };
};

/** Verifies one stream's chain, page by page (at most eventCountMax events). */
export const verifyStream = async (
  store: EventStore,
  stream: string,
  eventCountMax: number,
): Promise<ChainReport> => {
  let tail = EMPTY_CHAIN;
  let eventCount = 0;
  while (eventCount < eventCountMax) {
    const page = await store.readStream(stream, {
      fromRevision: tail.nextRevision,
      direction: 'forwards',
      eventCountMax: Math.min(PAGE_EVENT_COUNT_MAX, eventCountMax - eventCount),
    });
    if (page.length === 0) break;
    eventCount += page.length;
    const checked = verifyChain(tail, page);
    if (!checked.ok) return { eventCount, streamCount: 1, broken: checked.broken };
    tail = checked.tail;
  }
  return { eventCount, streamCount: eventCount === 0 ? 0 : 1, broken: null };
};

type CounterName =
  'debitsPostedMinor' | 'creditsPostedMinor' | 'debitsPendingMinor' | 'creditsPendingMinor';
const COUNTERS: readonly CounterName[] = [
  'debitsPostedMinor',
  'creditsPostedMinor',
  'debitsPendingMinor',
  'creditsPendingMinor',
];

type Mismatch = {
  accountId: string;
  field: CounterName | 'document';
  fromEvents: number | null;
  inReadModel: number | null;
};
type ReconcileReport = {
  generation: number;
  checkedPosition: string | null;
  accountCount: number;
  matchedCount: number;
  /** Accounts the live projection moved past the checked position while we compared. */
  movedOnCount: number;
  mismatchCount: number;
  mismatches: Mismatch[];
  balances: BalanceReport;
};

const countersOf = (state: AccountState): Record<CounterName, number> | null =>
  state.status === 'unopened'
    ? null
    : {
        debitsPostedMinor: state.debitsPostedMinor,
        creditsPostedMinor: state.creditsPostedMinor,
        debitsPendingMinor: state.debitsPendingMinor,
        creditsPendingMinor: state.creditsPendingMinor,
      };

/**
 * Folds every account stream up to the generation's checkpoint and compares each account's
 * counters with its read-model document; also runs the Σ = 0 check over the same events.
 */
export const reconcileBalances = async (
  eventStore: EventStore,
  readModels: ReadModelStore,
  generation: number,
  onPage?: PageProgress,
): Promise<ReconcileReport> => {
  const checkpoint = await readModels.readCheckpoint(checkpointOf(generation));
  const untilPosition = checkpoint?.position ?? null;
  const states = new Map<string, AccountState>();
  const audit = createBalanceAudit();
  if (untilPosition !== null) {
    await forEachEvent(
      eventStore,
      (event) => {
        audit.apply(event);
        if (!event.stream.startsWith('account-')) return;
        const accountId = event.stream.slice('account-'.length);
        const previous = states.get(accountId) ?? accountAggregate.initialState;
        states.set(
          accountId,
          accountAggregate.evolve(previous, parseStored(accountAggregate, event)),
        );
      },
      { afterPosition: null, untilPosition },
      onPage,
    );
  }
  const mismatches: Mismatch[] = [];
  let matchedCount = 0;
  let movedOnCount = 0;
  let mismatchCount = 0;
  const checkedKey = untilPosition === null ? '' : positionKeyOf(untilPosition);
  for (const [accountId, state] of states) {
    const document = await readModels.get(collectionIn(ACCOUNTS, generation), accountId);
    if (
      document !== null &&
      typeof document['positionKey'] === 'string' &&
      document['positionKey'] > checkedKey
    ) {
      movedOnCount += 1;
      continue;
    }
    const expected = countersOf(state);
    const found = document === null ? null : countersOf(accountStateOfDocument(document));
    const differing: Mismatch[] =
      expected === null || found === null
        ? [
            {
              accountId,
              field: 'document',
              fromEvents: expected === null ? null : 1,
              inReadModel: found === null ? null : 1,
            },
          ]
        : COUNTERS.filter((field) => expected[field] !== found[field]).map((field) => ({
            accountId,
            field,
            fromEvents: expected[field],
            inReadModel: found[field],
          }));
    if (differing.length === 0) matchedCount += 1;
    else mismatchCount += 1;
    mismatches.push(...differing.slice(0, Math.max(0, MISMATCHES_LISTED_MAX - mismatches.length)));
  }
  return {
    generation,
    checkedPosition: untilPosition?.toString() ?? null,
    accountCount: states.size,
    matchedCount,
    movedOnCount,
    mismatchCount,
    mismatches,
    balances: audit.report(),
  };
};
