import {
  decide as decideAccount,
  evolve as evolveAccount,
  type AccountCommand,
  type AccountEvent,
  type AccountProfile,
  type AccountRejection,
  type AccountState,
} from '../account/account.decider';
import { assert } from '../assert';
import { finishLegacyTransfer, type LegacyLegsSeen } from './legacy-transfer';
import type { RejectionDetail } from '../decision';
import {
  checkCreate,
  checkResolve,
  evolve as evolveTransfer,
  expiryOf,
  type KnownTransfer,
  type LegSideName,
  type TransferEvent,
  type TransferRejection,
  type TransferState,
  type TransferTerms,
  type VoidReason,
} from '../transfer/transfer.decider';

/**
 * The ledger's one pure decision: every command that opens, closes or moves money is decided
 * here against the accounts and transfers it names, and produces the events of every stream it
 * touches (legs on `account-<id>`, the transfer's event on `transfer-<id>`), appended together.
 */
export type LedgerCommand =
  | { type: 'OpenAccount'; data: Omit<AccountProfile, 'openedAt'> }
  | { type: 'CloseAccount'; data: { accountId: string } }
  | { type: 'CreateTransfer'; data: TransferTerms }
  | { type: 'PostTransfer'; data: { transferId: string; amountMinor: number | null } }
  | { type: 'VoidTransfer'; data: { transferId: string; reason: VoidReason } }
  /** Once, at the first start on a log of the old process: see legacy-transfer.ts. */
  | { type: 'FinishLegacyTransfer'; data: { transferId: string; seen: LegacyLegsSeen } };

/** A command of a request; `linked` chains it with the next one: all of the chain or none. */
export type LinkedCommand = { command: LedgerCommand; linked: boolean };

export const ledgerRejections = ['linked_transfer_failed', 'linked_chain_open'] as const;
export type LedgerRejection =
  AccountRejection | TransferRejection | (typeof ledgerRejections)[number];

export type OpenedAccount = Exclude<AccountState, { status: 'unopened' }>;

export type LedgerChange =
  | { category: 'account'; id: string; event: AccountEvent }
  | { category: 'transfer'; id: string; event: TransferEvent };

/**
 * A command's outcome. A transfer refused by an account's rule is recorded (`TransferRefused`,
 * so the id stays refused) and comes back as ok with the transfer in status 'rejected'.
 */
export type LedgerOutcome =
  | {
      ok: true;
      subject:
        { kind: 'account'; account: OpenedAccount } | { kind: 'transfer'; transfer: KnownTransfer };
      /** false when the command changed nothing (a retry of what is already so). */
      changed: boolean;
    }
  | { ok: false; rejection: LedgerRejection; detail: RejectionDetail };

/** The accounts and transfers as the ledger holds them before the request. */
export type LedgerView = {
  account(accountId: string): AccountState;
  transfer(transferId: string): TransferState;
};

type RequestDecision = {
  outcomes: LedgerOutcome[];
  /** Every event, in order; each stream's events in the order they are to be appended. */
  changes: LedgerChange[];
  /** The states after the request of every account and transfer it changed. */
  accounts: ReadonlyMap<string, AccountState>;
  transfers: ReadonlyMap<string, TransferState>;
  /**
   * The view contradicts itself (a pending transfer whose account holds no pending leg): it was
   * read while another instance wrote. The caller reloads and decides again; from one consistent
   * log this cannot happen.
   */
  stale: boolean;
};

/**
 * A command's outcome and events; `after` holds the states its events lead to when the decision
 * computed them anyway (the usual case), so that they are not folded a second time.
 */
type Decided = {
  outcome: LedgerOutcome;
  changes: LedgerChange[];
  stale?: true;
  after?: { accounts: readonly [string, AccountState][]; transfer: [string, TransferState] | null };
};
type Lookup = LedgerView;

const refused = (rejection: LedgerRejection, detail: RejectionDetail = {}): Decided => ({
  outcome: { ok: false, rejection, detail },
  changes: [],
});

const accountChanges = (id: string, events: readonly AccountEvent[]): LedgerChange[] =>
  events.map((event) => ({ category: 'account', id, event }));

const onAccount = (
  lookup: Lookup,
  accountId: string,
  command: AccountCommand,
): Decided | { ok: true; changes: LedgerChange[]; state: AccountState } => {
  const before = lookup.account(accountId);
  const decision = decideAccount(command, before);
  if (!decision.ok) return refused(decision.rejection, decision.detail);
  const state = decision.events.reduce(evolveAccount, before);
  return { ok: true, changes: accountChanges(accountId, decision.events), state };
};

const decideAccountCommand = (
  lookup: Lookup,
  accountId: string,
  command: AccountCommand,
): Decided => {
  const result = onAccount(lookup, accountId, command);
  if (!('ok' in result)) return result;
  assert(result.state.status !== 'unopened', `${command.type}: account unopened after it`);
  return {
    outcome: {
      ok: true,
      subject: { kind: 'account', account: result.state },
      changed: result.changes.length > 0,
    },
    changes: result.changes,
    after: { accounts: [[accountId, result.state]], transfer: null },
  };
};

const transferOutcome = (
  transferId: string,
  before: TransferState,
  events: readonly TransferEvent[],
): LedgerOutcome => {
  const after = events.reduce(evolveTransfer, before);
  assert(after.status !== 'none', `transfer ${transferId}: unknown after its events`);
  return { ok: true, subject: { kind: 'transfer', transfer: after }, changed: events.length > 0 };
};

const subjectTransfer = (outcome: LedgerOutcome): TransferState => {
  assert(outcome.ok && outcome.subject.kind === 'transfer', 'a transfer outcome');
  return outcome.subject.transfer;
};

const legCommand = (terms: TransferTerms, side: LegSideName): AccountCommand => ({
  type: 'ApplyLeg',
  data: {
    transferId: terms.transferId,
    side,
    amountMinor: terms.amountMinor,
    currency: terms.currency,
    pending: terms.mode === 'two_phase',
  },
});

const decideCreate = (lookup: Lookup, terms: TransferTerms, now: string): Decided => {
  const id = terms.transferId;
  const before = lookup.transfer(id);
  const check = checkCreate(terms, before);
  if (!check.ok) return refused(check.rejection, check.detail);
  if (check.existing !== null) return { outcome: transferOutcome(id, before, []), changes: [] };
  const refuse = (reason: string, side: LegSideName): Decided => {
    const event: TransferEvent = {
      type: 'TransferRefused',
      data: { ...terms, refusedAt: now, reason, side },
    };
    const outcome = transferOutcome(id, before, [event]);
    return {
      outcome,
      changes: [{ category: 'transfer', id, event }],
      after: { accounts: [], transfer: [id, subjectTransfer(outcome)] },
    };
  };
  const debit = onAccount(lookup, terms.debitAccountId, legCommand(terms, 'debit'));
  if (!('ok' in debit)) return refuse(outcomeRejection(debit), 'debit');
  const credit = onAccount(lookup, terms.creditAccountId, legCommand(terms, 'credit'));
  if (!('ok' in credit)) return refuse(outcomeRejection(credit), 'credit');
  const pending = terms.mode === 'two_phase';
  const event: TransferEvent = {
    type: 'TransferCreated',
    data: {
      ...terms,
      createdAt: now,
      status: pending ? 'pending' : 'posted',
      expiresAt: expiryOf(terms, now),
    },
  };
  const outcome = transferOutcome(id, before, [event]);
  return {
    outcome,
    changes: [...debit.changes, ...credit.changes, { category: 'transfer', id, event }],
    after: {
      accounts: [
        [terms.debitAccountId, debit.state],
        [terms.creditAccountId, credit.state],
      ],
      transfer: [id, subjectTransfer(outcome)],
    },
  };
};

const outcomeRejection = (decided: Decided): string =>
  decided.outcome.ok ? 'unknown' : decided.outcome.rejection;

const decideResolve = (
  lookup: Lookup,
  transferId: string,
  request: { kind: 'post'; amountMinor: number | null } | { kind: 'void'; reason: VoidReason },
  now: string,
): Decided => {
  const before = lookup.transfer(transferId);
  const check = checkResolve(request, before, now);
  if (!check.ok) return refused(check.rejection, check.detail);
  const apply = check.apply;
  if (apply === null) return { outcome: transferOutcome(transferId, before, []), changes: [] };
  const { debitAccountId, creditAccountId } = check.transfer.terms;
  const changes: LedgerChange[] = [];
  const accountsAfter: [string, AccountState][] = [];
  for (const [side, accountId] of [
    ['debit', debitAccountId],
    ['credit', creditAccountId],
  ] as const) {
    const command: AccountCommand =
      apply.kind === 'post'
        ? { type: 'PostPendingLeg', data: { transferId, side, amountMinor: apply.amountMinor } }
        : { type: 'VoidPendingLeg', data: { transferId, side, reason: apply.reason } };
    const leg = onAccount(lookup, accountId, command);
    // A pending transfer holds both pending legs in one consistent log: a refusal here means
    // the transfer and the account were read at different moments.
    if (!('ok' in leg)) return { ...refused('pending_leg_not_found'), stale: true };
    changes.push(...leg.changes);
    accountsAfter.push([accountId, leg.state]);
  }
  const event: TransferEvent =
    apply.kind === 'post'
      ? { type: 'TransferPosted', data: { amountMinor: apply.amountMinor, postedAt: now } }
      : { type: 'TransferVoided', data: { reason: apply.reason, voidedAt: now } };
  changes.push({ category: 'transfer', id: transferId, event });
  const outcome = transferOutcome(transferId, before, [event]);
  return {
    outcome,
    changes,
    after: { accounts: accountsAfter, transfer: [transferId, subjectTransfer(outcome)] },
  };
};

/** One command against the ledger as `lookup` shows it. */
const decideCommand = (lookup: Lookup, command: LedgerCommand, now: string): Decided => {
  switch (command.type) {
    case 'OpenAccount':
      return decideAccountCommand(lookup, command.data.accountId, {
        type: 'OpenAccount',
        data: { ...command.data, now },
      });
    case 'CloseAccount':
      return decideAccountCommand(lookup, command.data.accountId, {
        type: 'CloseAccount',
        data: { now },
      });
    case 'CreateTransfer':
      return decideCreate(lookup, command.data, now);
    case 'PostTransfer':
      return decideResolve(
        lookup,
        command.data.transferId,
        { kind: 'post', amountMinor: command.data.amountMinor },
        now,
      );
    case 'VoidTransfer':
      return decideResolve(
        lookup,
        command.data.transferId,
        { kind: 'void', reason: command.data.reason },
        now,
      );
    case 'FinishLegacyTransfer': {
      const { transferId, seen } = command.data;
      const before = lookup.transfer(transferId);
      if (before.status === 'none') return refused('transfer_not_found');
      const changes = finishLegacyTransfer(before, seen, lookup, now);
      const events = changes.flatMap((change) =>
        change.category === 'transfer' ? [change.event] : [],
      );
      return { outcome: transferOutcome(transferId, before, events), changes };
    }
  }
};

/** Whether an outcome breaks a linked chain: a refusal, recorded or not. */
const failureOf = (outcome: LedgerOutcome): LedgerOutcome | null => {
  if (!outcome.ok) return outcome;
  if (outcome.subject.kind !== 'transfer') return null;
  const { status, rejection } = outcome.subject.transfer;
  if (status !== 'rejected' || rejection === null) return null;
  return {
    ok: false,
    rejection: rejection.reason as LedgerRejection,
    detail: { side: rejection.side },
  };
};

/** The end (inclusive) of the chain that contains index `from`. */
const chainEndOf = (commands: readonly LinkedCommand[], from: number): number => {
  let end = from;
  while (end < commands.length - 1 && commands[end]?.linked === true) end += 1;
  return end;
};

/**
 * Decides a request's commands in order, each seeing the ones before it. A linked chain is all
 * or nothing: when one member fails, the chain's events are dropped, that member answers with
 * its own refusal (not recorded) and the others with `linked_transfer_failed`; a chain still
 * open at the end of the request fails whole with `linked_chain_open`.
 */
export const decideRequest = (
  view: LedgerView,
  commands: readonly LinkedCommand[],
  now: string,
): RequestDecision => {
  let accounts = new Map<string, AccountState>();
  let transfers = new Map<string, TransferState>();
  const lookup: Lookup = {
    account: (id) => accounts.get(id) ?? view.account(id),
    transfer: (id) => transfers.get(id) ?? view.transfer(id),
  };
  const outcomes: LedgerOutcome[] = [];
  const changes: LedgerChange[] = [];
  let stale = false;
  let chain: {
    start: number;
    accounts: typeof accounts;
    transfers: typeof transfers;
    changeCount: number;
  } | null = null;
  for (let index = 0; index < commands.length; index += 1) {
    const entry = commands[index];
    assert(entry !== undefined, 'decideRequest: command missing');
    if (chain === null && entry.linked)
      chain = {
        start: index,
        accounts: new Map(accounts),
        transfers: new Map(transfers),
        changeCount: changes.length,
      };
    const decided = decideCommand(lookup, entry.command, now);
    stale ||= decided.stale === true;
    const failure = chain === null ? null : failureOf(decided.outcome);
    if (chain !== null && failure !== null) {
      const end = chainEndOf(commands, index);
      ({ accounts, transfers } = chain);
      changes.length = chain.changeCount;
      outcomes.length = chain.start;
      for (let member = chain.start; member <= end; member += 1)
        outcomes.push(
          member === index
            ? failure
            : { ok: false, rejection: 'linked_transfer_failed', detail: { failedIndex: index } },
        );
      chain = null;
      index = end;
      continue;
    }
    if (decided.after !== undefined) {
      for (const [id, state] of decided.after.accounts) accounts.set(id, state);
      if (decided.after.transfer !== null) transfers.set(...decided.after.transfer);
    } else {
      for (const change of decided.changes) {
        if (change.category === 'account')
          accounts.set(change.id, evolveAccount(lookup.account(change.id), change.event));
        else transfers.set(change.id, evolveTransfer(lookup.transfer(change.id), change.event));
      }
    }
    changes.push(...decided.changes);
    outcomes.push(decided.outcome);
    if (chain !== null && !entry.linked) chain = null;
  }
  if (chain !== null) {
    ({ accounts, transfers } = chain);
    changes.length = chain.changeCount;
    for (let member = chain.start; member < commands.length; member += 1)
      outcomes[member] = { ok: false, rejection: 'linked_chain_open', detail: {} };
  }
  return { outcomes, changes, accounts, transfers, stale };
};
