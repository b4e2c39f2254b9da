import {
  evolve as evolveAccount,
  type AccountConstraint,
  type AccountEvent,
  type AccountState,
} from '../../../domain/account/account.decider';
import {
  decideRequest,
  type LedgerCommand,
  type LedgerOutcome,
  type LinkedCommand,
} from '../../../domain/ledger/ledger.decider';
import {
  evolve as evolveTransfer,
  type TransferEvent,
  type TransferState,
  type TransferTerms,
} from '../../../domain/transfer/transfer.decider';

/**
 * The ledger's decision, given/when/then: given the events of each stream, when a request of
 * commands, then the outcomes and the events per stream (and evolve accepts them on replay).
 */
type Given = {
  accounts?: Record<string, AccountEvent[]>;
  transfers?: Record<string, TransferEvent[]>;
};

const now = '2026-12-01T10:00:00.000Z';
const later = '2026-12-01T10:01:00.000Z';

const opened = (
  accountId: string,
  constraint: AccountConstraint = 'none',
  currency = 'EUR',
): AccountEvent => ({
  type: 'AccountOpened',
  data: { accountId, ownerClientId: 'admin', currency, constraint, metadata: {}, openedAt: now },
});
const openedBy = (accountId: string, ownerClientId: string): AccountEvent => ({
  type: 'AccountOpened',
  data: {
    accountId,
    ownerClientId,
    currency: 'EUR',
    constraint: 'none',
    metadata: {},
    openedAt: now,
  },
});
const credited = (amountMinor: number, transferId = 'seed'): AccountEvent => ({
  type: 'AccountCredited',
  data: { transferId, amountMinor, pending: false },
});
const closed: AccountEvent = { type: 'AccountClosed', data: { closedAt: now } };

const terms = (overrides: Partial<TransferTerms> = {}): TransferTerms => ({
  transferId: 't1',
  debitAccountId: 'wallet',
  creditAccountId: 'shop',
  amountMinor: 500,
  currency: 'EUR',
  mode: 'single_phase',
  timeoutMs: null,
  reference: '',
  ...overrides,
});
const create = (overrides: Partial<TransferTerms> = {}): LedgerCommand => ({
  type: 'CreateTransfer',
  data: terms(overrides),
});
const post = (amountMinor: number | null, transferId = 't1'): LedgerCommand => ({
  type: 'PostTransfer',
  data: { transferId, amountMinor },
});
const voidIt = (reason: 'voided' | 'expired' = 'voided', transferId = 't1'): LedgerCommand => ({
  type: 'VoidTransfer',
  data: { transferId, reason },
});

/** A wallet holding 1,000 that may not go below zero, and a shop. */
const funded: Given = {
  accounts: {
    wallet: [opened('wallet', 'debits_must_not_exceed_credits'), credited(1000)],
    shop: [opened('shop')],
  },
};

const given = (history: Given) => {
  const accounts = new Map<string, AccountState>(
    Object.entries(history.accounts ?? {}).map(([id, events]) => [
      id,
      events.reduce(evolveAccount, { status: 'unopened' } as AccountState),
    ]),
  );
  const transfers = new Map<string, TransferState>(
    Object.entries(history.transfers ?? {}).map(([id, events]) => [
      id,
      events.reduce(evolveTransfer, { status: 'none' } as TransferState),
    ]),
  );
  const view = {
    account: (id: string): AccountState => accounts.get(id) ?? { status: 'unopened' },
    transfer: (id: string): TransferState => transfers.get(id) ?? { status: 'none' },
  };
  const when = (commands: readonly (LedgerCommand | LinkedCommand)[], at = now) => {
    const linked = commands.map((entry) =>
      'command' in entry ? entry : { command: entry, linked: false },
    );
    const decision = decideRequest(view, linked, at);
    const eventsOf = (stream: string): string[] =>
      decision.changes
        .filter((change) => `${change.category}-${change.id}` === stream)
        .map((change) => change.event.type);
    // Pairs with decide: whatever it accepted, evolve accepts on replay, from the given states.
    for (const change of decision.changes) {
      if (change.category === 'account')
        accounts.set(change.id, evolveAccount(view.account(change.id), change.event));
      else transfers.set(change.id, evolveTransfer(view.transfer(change.id), change.event));
    }
    // The states the decision hands back are the fold of its events.
    decision.accounts.forEach((state, id) => expect(state).toEqual(view.account(id)));
    decision.transfers.forEach((state, id) => expect(state).toEqual(view.transfer(id)));
    return {
      decision,
      eventsOf,
      outcomes: decision.outcomes,
      account: (id: string) => view.account(id),
      transfer: (id: string) => view.transfer(id),
    };
  };
  return { when };
};

const rejectionOf = (outcome: LedgerOutcome | undefined): string | null => {
  if (outcome === undefined) return 'missing';
  if (!outcome.ok) return outcome.rejection;
  if (outcome.subject.kind === 'transfer')
    return outcome.subject.transfer.rejection?.reason ?? null;
  return null;
};
const counters = (state: AccountState) =>
  state.status === 'unopened'
    ? null
    : {
        debitsPosted: state.debitsPostedMinor,
        creditsPosted: state.creditsPostedMinor,
        debitsPending: state.debitsPendingMinor,
        creditsPending: state.creditsPendingMinor,
      };

describe('ledger decider: accounts', () => {
  it('opens an account, and a reopen with the same terms changes nothing', () => {
    const first = given({}).when([
      {
        type: 'OpenAccount',
        data: {
          accountId: 'a',
          ownerClientId: 'c',
          currency: 'EUR',
          constraint: 'none',
          metadata: {},
        },
      },
    ]);
    expect(first.eventsOf('account-a')).toEqual(['AccountOpened']);
    const again = given({
      accounts: { a: [openedBy('a', 'c')] },
    }).when([
      {
        type: 'OpenAccount',
        data: {
          accountId: 'a',
          ownerClientId: 'c',
          currency: 'EUR',
          constraint: 'none',
          metadata: {},
        },
      },
    ]);
    expect(again.decision.changes).toEqual([]);
    expect(again.outcomes[0]).toMatchObject({ ok: true, changed: false });
  });
  it('refuses a reopen with other terms, naming the field', () => {
    const { outcomes } = given({ accounts: { a: [opened('a')] } }).when([
      {
        type: 'OpenAccount',
        data: {
          accountId: 'a',
          ownerClientId: 'admin',
          currency: 'USD',
          constraint: 'none',
          metadata: {},
        },
      },
    ]);
    expect(outcomes[0]).toEqual({
      ok: false,
      rejection: 'account_already_exists',
      detail: { field: 'currency' },
    });
  });
  it('closes only at zero with nothing pending', () => {
    const close: LedgerCommand = { type: 'CloseAccount', data: { accountId: 'wallet' } };
    expect(rejectionOf(given(funded).when([close]).outcomes[0])).toBe('account_balance_not_zero');
    const empty = given({ accounts: { wallet: [opened('wallet')] } }).when([close]);
    expect(empty.eventsOf('account-wallet')).toEqual(['AccountClosed']);
  });
});

describe('ledger decider: single-phase transfers', () => {
  it('posts both legs and the transfer in one decision', () => {
    const result = given(funded).when([create()]);
    expect(result.eventsOf('account-wallet')).toEqual(['AccountDebited']);
    expect(result.eventsOf('account-shop')).toEqual(['AccountCredited']);
    expect(result.eventsOf('transfer-t1')).toEqual(['TransferCreated']);
    expect(result.transfer('t1')).toMatchObject({ status: 'posted', postedAmountMinor: 500 });
    expect(counters(result.account('wallet'))).toMatchObject({ debitsPosted: 500 });
    expect(counters(result.account('shop'))).toMatchObject({ creditsPosted: 500 });
  });
  it('accepts the exact balance and refuses one minor unit above it, recording the refusal', () => {
    expect(rejectionOf(given(funded).when([create({ amountMinor: 1000 })]).outcomes[0])).toBeNull();
    const above = given(funded).when([create({ amountMinor: 1001 })]);
    expect(rejectionOf(above.outcomes[0])).toBe('insufficient_funds');
    expect(above.eventsOf('transfer-t1')).toEqual(['TransferRefused']);
    expect(above.eventsOf('account-wallet')).toEqual([]);
    expect(above.transfer('t1')).toMatchObject({
      status: 'rejected',
      rejection: { side: 'debit' },
    });
  });
  it('makes each accepted transfer visible to the next in the same request', () => {
    const { outcomes } = given(funded).when([
      create({ transferId: 'a', amountMinor: 600 }),
      create({ transferId: 'b', amountMinor: 600 }),
    ]);
    expect(outcomes.map(rejectionOf)).toEqual([null, 'insufficient_funds']);
  });
  it('refuses a credit above what a credits_must_not_exceed_debits account may take', () => {
    const capped = {
      accounts: { ...funded.accounts, shop: [opened('shop', 'credits_must_not_exceed_debits')] },
    };
    const result = given(capped).when([create()]);
    expect(rejectionOf(result.outcomes[0])).toBe('credits_exceed_debits');
    expect(result.transfer('t1')).toMatchObject({ rejection: { side: 'credit' } });
    expect(result.eventsOf('account-wallet')).toEqual([]);
  });
  it('refuses another currency, a closed or a missing account, recording the refusal', () => {
    const usd = { accounts: { ...funded.accounts, shop: [opened('shop', 'none', 'USD')] } };
    expect(rejectionOf(given(usd).when([create()]).outcomes[0])).toBe('currency_mismatch');
    const shut = { accounts: { ...funded.accounts, shop: [opened('shop'), closed] } };
    expect(rejectionOf(given(shut).when([create()]).outcomes[0])).toBe('account_closed');
    const missing = given(funded).when([create({ creditAccountId: 'nobody' })]);
    expect(rejectionOf(missing.outcomes[0])).toBe('account_not_found');
    expect(missing.eventsOf('transfer-t1')).toEqual(['TransferRefused']);
  });
  it('refuses the same account and a timeout on a single-phase transfer, recording nothing', () => {
    const same = given(funded).when([create({ creditAccountId: 'wallet' })]);
    expect(same.outcomes[0]).toMatchObject({ ok: false, rejection: 'same_account' });
    expect(same.decision.changes).toEqual([]);
    const timed = given(funded).when([create({ timeoutMs: 1000 })]);
    expect(timed.outcomes[0]).toMatchObject({ ok: false, rejection: 'timeout_requires_two_phase' });
  });
  it('refuses a balance past the safe-integer range', () => {
    const rich = {
      accounts: {
        wallet: [opened('wallet'), credited(1)],
        shop: [opened('shop'), credited(Number.MAX_SAFE_INTEGER)],
      },
    };
    expect(rejectionOf(given(rich).when([create({ amountMinor: 1 })]).outcomes[0])).toBe(
      'balance_overflow',
    );
  });
  it('answers a retry with the same terms as it is, and names the field of other terms', () => {
    const history = {
      ...funded,
      transfers: {
        t1: [
          {
            type: 'TransferCreated',
            data: { ...terms(), createdAt: now, status: 'posted', expiresAt: null },
          } satisfies TransferEvent,
        ],
      },
    };
    const retry = given(history).when([create()]);
    expect(retry.decision.changes).toEqual([]);
    expect(retry.outcomes[0]).toMatchObject({ ok: true, changed: false });
    expect(given(history).when([create({ amountMinor: 499 })]).outcomes[0]).toEqual({
      ok: false,
      rejection: 'transfer_id_conflict',
      detail: { field: 'amountMinor' },
    });
  });
  it('keeps a refused id refused, even once the funds are there', () => {
    const refused: TransferEvent = {
      type: 'TransferRefused',
      data: {
        ...terms({ amountMinor: 5000 }),
        refusedAt: now,
        reason: 'insufficient_funds',
        side: 'debit',
      },
    };
    const result = given({ ...funded, transfers: { t1: [refused] } }).when([
      create({ amountMinor: 5000 }),
    ]);
    expect(rejectionOf(result.outcomes[0])).toBe('insufficient_funds');
    expect(result.decision.changes).toEqual([]);
  });
});

describe('ledger decider: two-phase transfers', () => {
  const pendingTerms = { mode: 'two_phase' as const, timeoutMs: 60_000 };
  const reserved = (): Given => {
    const result = given(funded).when([create(pendingTerms)]);
    return {
      accounts: {
        wallet: [
          ...(funded.accounts?.['wallet'] ?? []),
          { type: 'AccountDebited', data: { transferId: 't1', amountMinor: 500, pending: true } },
        ],
        shop: [
          ...(funded.accounts?.['shop'] ?? []),
          { type: 'AccountCredited', data: { transferId: 't1', amountMinor: 500, pending: true } },
        ],
      },
      transfers: {
        t1: result.decision.changes.flatMap((c) => (c.category === 'transfer' ? [c.event] : [])),
      },
    };
  };
  it('reserves both legs as pending, with its expiry', () => {
    const result = given(funded).when([create(pendingTerms)]);
    expect(result.transfer('t1')).toMatchObject({ status: 'pending', expiresAt: later });
    expect(counters(result.account('wallet'))).toMatchObject({
      debitsPending: 500,
      debitsPosted: 0,
    });
  });
  it('posts part of it and releases the rest', () => {
    const result = given(reserved()).when([post(300)]);
    expect(result.eventsOf('account-wallet')).toEqual(['PendingLegPosted']);
    expect(result.eventsOf('account-shop')).toEqual(['PendingLegPosted']);
    expect(result.eventsOf('transfer-t1')).toEqual(['TransferPosted']);
    expect(counters(result.account('wallet'))).toEqual({
      debitsPosted: 300,
      creditsPosted: 1000,
      debitsPending: 0,
      creditsPending: 0,
    });
  });
  it('refuses to post more than pending', () => {
    expect(given(reserved()).when([post(501)]).outcomes[0]).toMatchObject({
      ok: false,
      rejection: 'amount_exceeds_pending',
    });
  });
  it('resolves once: a second post is a no-op, a void after it is refused', () => {
    const result = given(reserved()).when([post(null), post(null), voidIt()]);
    expect(result.outcomes.map((o) => (o.ok ? o.changed : o.rejection))).toEqual([
      true,
      false,
      'transfer_already_posted',
    ]);
  });
  it('voids both legs', () => {
    const result = given(reserved()).when([voidIt()]);
    expect(result.transfer('t1')).toMatchObject({ status: 'voided' });
    expect(counters(result.account('wallet'))).toMatchObject({ debitsPending: 0, debitsPosted: 0 });
    expect(counters(result.account('shop'))).toMatchObject({ creditsPending: 0 });
  });
  it('expires only once its timeout has passed', () => {
    expect(given(reserved()).when([voidIt('expired')], now).outcomes[0]).toMatchObject({
      rejection: 'transfer_not_expired_yet',
    });
    const expired = given(reserved()).when([voidIt('expired')], later);
    expect(expired.transfer('t1')).toMatchObject({
      status: 'voided',
      resolution: { kind: 'void', reason: 'expired' },
    });
  });
  it('refuses to post a single-phase transfer and a transfer that does not exist', () => {
    expect(given(reserved()).when([post(null, 'nope')]).outcomes[0]).toMatchObject({
      rejection: 'transfer_not_found',
    });
    const single = given(funded).when([create(), post(null)]);
    expect(single.outcomes[1]).toMatchObject({ rejection: 'transfer_not_pending' });
  });
});

describe('ledger decider: linked chains', () => {
  const link = (command: LedgerCommand, linked = true): LinkedCommand => ({ command, linked });
  it('applies a chain whole', () => {
    const result = given(funded).when([
      link(create({ transferId: 'a', amountMinor: 400 })),
      link(create({ transferId: 'b', amountMinor: 100 }), false),
    ]);
    expect(result.outcomes.map(rejectionOf)).toEqual([null, null]);
    expect(result.eventsOf('account-wallet')).toEqual(['AccountDebited', 'AccountDebited']);
  });
  it('drops the whole chain when one member fails, naming it, and keeps what is outside', () => {
    const result = given(funded).when([
      create({ transferId: 'before', amountMinor: 100 }),
      link(create({ transferId: 'a', amountMinor: 400 })),
      link(create({ transferId: 'b', amountMinor: 600 })),
      link(create({ transferId: 'c', amountMinor: 1 }), false),
      create({ transferId: 'after', amountMinor: 100 }),
    ]);
    expect(result.outcomes.map(rejectionOf)).toEqual([
      null,
      'linked_transfer_failed',
      'insufficient_funds',
      'linked_transfer_failed',
      null,
    ]);
    expect(result.outcomes[1]).toMatchObject({ detail: { failedIndex: 2 } });
    expect(result.eventsOf('transfer-a')).toEqual([]);
    expect(result.eventsOf('transfer-b')).toEqual([]);
    expect(result.eventsOf('transfer-c')).toEqual([]);
    expect(counters(result.account('wallet'))).toMatchObject({ debitsPosted: 200 });
  });
  it('fails a chain left open at the end of the request', () => {
    const result = given(funded).when([
      link(create({ transferId: 'a' })),
      link(create({ transferId: 'b' })),
    ]);
    expect(result.outcomes.map(rejectionOf)).toEqual(['linked_chain_open', 'linked_chain_open']);
    expect(result.decision.changes).toEqual([]);
  });
});

describe('ledger decider: a view read while another instance wrote', () => {
  it('reports a pending transfer whose account holds no pending leg as stale, writing nothing', () => {
    const pending: TransferEvent = {
      type: 'TransferCreated',
      data: { ...terms({ mode: 'two_phase' }), createdAt: now, status: 'pending', expiresAt: null },
    };
    const result = given({ ...funded, transfers: { t1: [pending] } }).when([voidIt()]);
    expect(result.decision.stale).toBe(true);
    expect(result.decision.changes).toEqual([]);
  });
});
