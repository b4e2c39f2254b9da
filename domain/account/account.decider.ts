import type { Aggregate } from '../aggregate';
import { accountEventCodec } from './account.events';
import { assert } from '../assert';
import { accept, reject, type Decision } from '../decision';
import { addWithinSafeRange, type Currency } from '../money';
import type {
  AccountConstraint,
  AccountCounters,
  AccountEvent,
  AccountState,
  LegSide,
  PendingLeg,
} from './account.model';
import { accountSnapshotCodec } from './account.snapshot';
import type { SealedHolder } from '../personal-data/holder';

/**
 * A double-entry account in the TigerBeetle model: four monotonic counters, changed only by the
 * legs of transfers. Balance (credit-normal) = creditsPosted − debitsPosted.
 */
export * from './account.model';

export type AccountCommand =
  | {
      type: 'OpenAccount';
      data: {
        accountId: string;
        ownerClientId: string;
        currency: Currency;
        constraint: AccountConstraint;
        metadata: Record<string, string>;
        holder?: SealedHolder;
        now: string;
      };
    }
  | {
      type: 'ApplyLeg';
      data: {
        transferId: string;
        side: LegSide;
        amountMinor: number;
        currency: Currency;
        pending: boolean;
      };
    }
  | { type: 'PostPendingLeg'; data: { transferId: string; side: LegSide; amountMinor: number } }
  | { type: 'VoidPendingLeg'; data: { transferId: string; side: LegSide; reason: string } }
  | { type: 'ReverseDebit'; data: { transferId: string; amountMinor: number; reason: string } }
  | { type: 'CloseAccount'; data: { now: string } };

export const accountRejections = [
  'account_already_exists',
  'account_not_found',
  'account_closed',
  'currency_mismatch',
  'insufficient_funds',
  'credits_exceed_debits',
  'balance_overflow',
  'pending_leg_not_found',
  'amount_exceeds_pending',
  'account_balance_not_zero',
  'account_has_pending_transfers',
] as const;
export type AccountRejection = (typeof accountRejections)[number];

type OpenAccount = Extract<AccountState, { status: 'open' | 'closed' }>;
type AccountDecision = Decision<AccountEvent, AccountRejection>;

const decideOpen = (
  data: Extract<AccountCommand, { type: 'OpenAccount' }>['data'],
  state: AccountState,
): AccountDecision => {
  const { now, holder, ...fields } = data;
  if (state.status === 'unopened')
    return accept({
      type: 'AccountOpened',
      data: { ...fields, openedAt: now, ...(holder === undefined ? {} : { holder }) },
    });
  // A sealed holder differs at every sealing (random IV): the same open names the same subject.
  const existing: Record<string, string> = {
    accountId: state.accountId,
    ownerClientId: state.ownerClientId,
    currency: state.currency,
    constraint: state.constraint,
    metadata: JSON.stringify(state.metadata),
    holderSubjectId: state.holder?.subjectId ?? '',
  };
  const requested: Record<string, string> = {
    ...fields,
    metadata: JSON.stringify(fields.metadata),
    holderSubjectId: holder?.subjectId ?? '',
  };
  const differing = Object.keys(requested).find((key) => existing[key] !== requested[key]);
  return differing === undefined
    ? accept()
    : reject('account_already_exists', { field: differing });
};

/** Checks a new leg against the account's constraint and the safe-integer range. */
const checkLeg = (
  state: OpenAccount,
  side: LegSide,
  amountMinor: number,
  pending: boolean,
): AccountRejection | null => {
  const counters = applyLegToCounters(state, side, amountMinor, pending);
  if (counters === null) return 'balance_overflow';
  const debitsExposed = counters.debitsPostedMinor + counters.debitsPendingMinor;
  const creditsExposed = counters.creditsPostedMinor + counters.creditsPendingMinor;
  if (
    side === 'debit' &&
    state.constraint === 'debits_must_not_exceed_credits' &&
    debitsExposed > counters.creditsPostedMinor
  )
    return 'insufficient_funds';
  if (
    side === 'credit' &&
    state.constraint === 'credits_must_not_exceed_debits' &&
    creditsExposed > counters.debitsPostedMinor
  )
    return 'credits_exceed_debits';
  return null;
};

const applyLegToCounters = (
  counters: AccountCounters,
  side: LegSide,
  amountMinor: number,
  pending: boolean,
): AccountCounters | null => {
  const key: keyof AccountCounters = `${side === 'debit' ? 'debits' : 'credits'}${pending ? 'Pending' : 'Posted'}Minor`;
  const sum = addWithinSafeRange(counters[key], amountMinor);
  return sum === null ? null : { ...counters, [key]: sum };
};

const decideOnOpenAccount = (
  command: Exclude<AccountCommand, { type: 'OpenAccount' }>,
  state: OpenAccount,
): AccountDecision => {
  switch (command.type) {
    case 'ApplyLeg': {
      const { transferId, side, amountMinor, currency, pending } = command.data;
      assert(
        Number.isSafeInteger(amountMinor) && amountMinor > 0,
        'ApplyLeg: amountMinor must be a positive safe integer',
      );
      if (state.status === 'closed') return reject('account_closed');
      if (currency !== state.currency)
        return reject('currency_mismatch', { accountCurrency: state.currency });
      if (pending && state.pendingLegs.has(transferId)) return accept();
      const refusal = checkLeg(state, side, amountMinor, pending);
      if (refusal !== null) return reject(refusal);
      const type = side === 'debit' ? 'AccountDebited' : 'AccountCredited';
      return accept({ type, data: { transferId, amountMinor, pending } });
    }
    case 'PostPendingLeg': {
      const { transferId, side, amountMinor } = command.data;
      const leg = state.pendingLegs.get(transferId);
      if (leg === undefined || leg.side !== side) return reject('pending_leg_not_found');
      if (amountMinor > leg.amountMinor)
        return reject('amount_exceeds_pending', { pendingAmountMinor: leg.amountMinor });
      return accept({
        type: 'PendingLegPosted',
        data: {
          transferId,
          side,
          pendingAmountMinor: leg.amountMinor,
          postedAmountMinor: amountMinor,
        },
      });
    }
    case 'VoidPendingLeg': {
      const { transferId, side, reason } = command.data;
      const leg = state.pendingLegs.get(transferId);
      if (leg === undefined || leg.side !== side) return reject('pending_leg_not_found');
      return accept({
        type: 'PendingLegVoided',
        data: { transferId, side, amountMinor: leg.amountMinor, reason },
      });
    }
    case 'ReverseDebit': {
      // A compensation restores a state the account was already in, so constraints and closure
      // cannot refuse it; only the safe-integer range can.
      const { transferId, amountMinor, reason } = command.data;
      if (addWithinSafeRange(state.creditsPostedMinor, amountMinor) === null)
        return reject('balance_overflow');
      return accept({ type: 'AccountDebitReversed', data: { transferId, amountMinor, reason } });
    }
    case 'CloseAccount': {
      if (state.status === 'closed') return accept();
      if (state.pendingLegs.size > 0) return reject('account_has_pending_transfers');
      if (state.creditsPostedMinor !== state.debitsPostedMinor)
        return reject('account_balance_not_zero');
      return accept({ type: 'AccountClosed', data: { closedAt: command.data.now } });
    }
  }
};

export const decide = (command: AccountCommand, state: AccountState): AccountDecision => {
  if (command.type === 'OpenAccount') return decideOpen(command.data, state);
  if (state.status === 'unopened') return reject('account_not_found');
  return decideOnOpenAccount(command, state);
};

const withCounters = (
  state: OpenAccount,
  counters: AccountCounters | null,
  what: string,
): OpenAccount => {
  assert(counters !== null, `${what}: counter overflow`);
  return { ...state, ...counters };
};

const withoutPendingLeg = (
  state: OpenAccount,
  transferId: string,
): ReadonlyMap<string, PendingLeg> => {
  const pendingLegs = new Map(state.pendingLegs);
  pendingLegs.delete(transferId);
  return pendingLegs;
};

const evolveOpen = (
  state: OpenAccount,
  event: Exclude<AccountEvent, { type: 'AccountOpened' }>,
): OpenAccount => {
  switch (event.type) {
    case 'AccountDebited':
    case 'AccountCredited': {
      const { transferId, amountMinor, pending } = event.data;
      const side: LegSide = event.type === 'AccountDebited' ? 'debit' : 'credit';
      assert(
        checkLeg(state, side, amountMinor, pending) === null,
        `${event.type}: leg breaks the account's constraint`,
      );
      const next = withCounters(
        state,
        applyLegToCounters(state, side, amountMinor, pending),
        event.type,
      );
      if (!pending) return next;
      assert(!state.pendingLegs.has(transferId), `${event.type}: pending leg applied twice`);
      return {
        ...next,
        pendingLegs: new Map(state.pendingLegs).set(transferId, { side, amountMinor }),
      };
    }
    case 'PendingLegPosted':
    case 'PendingLegVoided': {
      const { transferId, side } = event.data;
      const leg = state.pendingLegs.get(transferId);
      assert(leg !== undefined && leg.side === side, `${event.type}: no such pending leg`);
      const pendingKey = side === 'debit' ? 'debitsPendingMinor' : 'creditsPendingMinor';
      const released = {
        ...state,
        [pendingKey]: state[pendingKey] - leg.amountMinor,
        pendingLegs: withoutPendingLeg(state, transferId),
      };
      if (event.type === 'PendingLegVoided') return released;
      assert(
        event.data.postedAmountMinor <= leg.amountMinor,
        'PendingLegPosted: more than pending',
      );
      return withCounters(
        released,
        applyLegToCounters(released, side, event.data.postedAmountMinor, false),
        event.type,
      );
    }
    case 'AccountDebitReversed':
      return withCounters(
        state,
        applyLegToCounters(state, 'credit', event.data.amountMinor, false),
        event.type,
      );
    case 'AccountClosed':
      assert(
        state.pendingLegs.size === 0 && state.creditsPostedMinor === state.debitsPostedMinor,
        'AccountClosed: not at zero',
      );
      return { ...state, status: 'closed' };
  }
};

export const evolve = (state: AccountState, event: AccountEvent): AccountState => {
  if (event.type === 'AccountOpened') {
    assert(state.status === 'unopened', 'AccountOpened: account opened twice');
    const { openedAt, ...fields } = event.data;
    const counters = {
      debitsPostedMinor: 0,
      creditsPostedMinor: 0,
      debitsPendingMinor: 0,
      creditsPendingMinor: 0,
    };
    return { status: 'open', ...fields, openedAt, pendingLegs: new Map(), ...counters };
  }
  assert(state.status !== 'unopened', `${event.type}: account not opened`);
  return evolveOpen(state, event);
};

export const accountAggregate: Aggregate<
  AccountCommand,
  AccountEvent,
  AccountState,
  AccountRejection
> = {
  category: 'account',
  initialState: { status: 'unopened' },
  decide,
  evolve,
  eventCodec: accountEventCodec,
  snapshotCodec: accountSnapshotCodec,
};
