import { accountAggregate, type AccountState } from '../domain/account/account.decider';
import { accountSnapshotCodec } from '../domain/account/account.snapshot';
import { accountView } from '../domain/account/account.view';
import { parseStored } from '../domain/aggregate';
import { jsonObject } from '../domain/json-fields';
import type { JsonObject, RecordedEvent } from '../domain/ports/event-store.port';
import {
  alreadyApplied,
  asJson,
  positionKeyOf,
  streamIdOf,
  type Projection,
  type ProjectionContext,
} from './projection';

/**
 * accounts: one document per account with its balances (posted, pending, available);
 * entries: one per leg that moved a counter, with the balances right after it (a statement).
 * The account's state is folded by the domain's own evolve, so the read model cannot drift from
 * what the write side decides on; pending legs are kept as a record (JSON has no Map).
 */
export const ACCOUNTS = 'accounts';
export const ENTRIES = 'entries';

type OpenedAccount = Exclude<AccountState, { status: 'unopened' }>;

/**
 * The state kept in an account's document, checked field by field by the account's snapshot
 * decoder: the same shape but for the pending legs, kept here as a record by transfer id.
 */
const decodeState = (document: JsonObject | null): AccountState => {
  if (document === null) return accountAggregate.initialState;
  const stored = jsonObject(document['state'], 'account state');
  const legs = jsonObject(stored['pendingLegs'], 'pendingLegs');
  const pendingLegs = Object.entries(legs).map(([transferId, leg]) => ({
    ...jsonObject(leg, 'pendingLegs[]'),
    transferId,
  }));
  return accountSnapshotCodec.decode({ ...stored, pendingLegs });
};

const encodeState = (state: OpenedAccount): JsonObject =>
  asJson({ ...state, pendingLegs: Object.fromEntries(state.pendingLegs) });

/** The API shape: the domain's view plus the pending balance and where it was read. */
const accountReadView = (state: OpenedAccount, event: RecordedEvent): JsonObject =>
  asJson({
    ...accountView(state),
    pendingBalanceMinor: state.creditsPendingMinor - state.debitsPendingMinor,
    position: event.position.toString(),
    updatedAt: event.metadata.occurredAt,
  });

const entryOf = (
  event: RecordedEvent,
  accountId: string,
  state: OpenedAccount,
): JsonObject | null => {
  const domainEvent = parseStored(accountAggregate, event);
  if (domainEvent.type === 'AccountOpened' || domainEvent.type === 'AccountClosed') return null;
  const view = accountView(state);
  const side =
    domainEvent.type === 'AccountDebited'
      ? 'debit'
      : domainEvent.type === 'AccountCredited' || domainEvent.type === 'AccountDebitReversed'
        ? 'credit'
        : domainEvent.data.side;
  const amountMinor =
    domainEvent.type === 'PendingLegPosted'
      ? domainEvent.data.postedAmountMinor
      : domainEvent.data.amountMinor;
  const entry = {
    entryId: event.id,
    accountId,
    transferId: domainEvent.data.transferId,
    kind: domainEvent.type,
    side,
    amountMinor,
    currency: state.currency,
    pending:
      domainEvent.type === 'AccountDebited' || domainEvent.type === 'AccountCredited'
        ? domainEvent.data.pending
        : false,
    balanceAfterMinor: view.balanceMinor,
    availableAfterMinor: view.availableMinor,
    position: event.position.toString(),
    occurredAt: event.metadata.occurredAt,
  };
  return asJson({ view: entry, accountId, positionKey: positionKeyOf(event.position) });
};

const apply = async (event: RecordedEvent, context: ProjectionContext): Promise<void> => {
  const accountId = streamIdOf(event.stream, 'account');
  if (accountId === null) return;
  const document = await context.get(ACCOUNTS, accountId);
  if (alreadyApplied(document, event)) return;
  const state = accountAggregate.evolve(
    decodeState(document),
    parseStored(accountAggregate, event),
  );
  if (state.status === 'unopened') return;
  const view = accountReadView(state, event);
  context.put(ACCOUNTS, accountId, {
    view,
    state: encodeState(state),
    positionKey: positionKeyOf(event.position),
    ownerClientId: state.ownerClientId,
    currency: state.currency,
    status: state.status,
    openedAt: state.openedAt,
  });
  const entry = entryOf(event, accountId, state);
  if (entry !== null) context.put(ENTRIES, event.id, entry);
  context.announce({ stream: event.stream, position: event.position, kind: 'account', view });
};

export const accountsProjection: Projection = {
  name: 'accounts',
  collections: [
    {
      name: ACCOUNTS,
      indexes: [['openedAt'], ['ownerClientId', 'openedAt'], ['currency', 'openedAt']],
    },
    { name: ENTRIES, indexes: [['accountId', 'positionKey']] },
  ],
  apply,
};

/** The account's state from its stored document (reconciliation compares against it). */
export const accountStateOfDocument = decodeState;
