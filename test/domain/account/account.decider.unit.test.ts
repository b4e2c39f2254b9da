import fc from 'fast-check';
import {
  accountAggregate,
  type AccountCommand,
  type AccountEvent,
} from '../../../domain/account/account.decider';
import { deciderSpec } from '../../support/decider-spec';

const given = deciderSpec(accountAggregate);
const now = '2026-11-22T10:00:00.000Z';
const open = (
  constraint:
    | 'none'
    | 'debits_must_not_exceed_credits'
    | 'credits_must_not_exceed_debits' = 'debits_must_not_exceed_credits',
): AccountCommand => ({
  type: 'OpenAccount',
  data: {
    accountId: 'wallet-1',
    ownerClientId: 'merchant-1',
    currency: 'EUR',
    constraint,
    metadata: { owner: 'alice' },
    now,
  },
});
const opened = (
  constraint: Parameters<typeof open>[0] = 'debits_must_not_exceed_credits',
): AccountEvent => ({
  type: 'AccountOpened',
  data: {
    accountId: 'wallet-1',
    ownerClientId: 'merchant-1',
    currency: 'EUR',
    constraint,
    metadata: { owner: 'alice' },
    openedAt: now,
  },
});
const leg = (
  side: 'debit' | 'credit',
  amountMinor: number,
  transferId = 't1',
  pending = false,
  currency = 'EUR',
): AccountCommand => ({
  type: 'ApplyLeg',
  data: { transferId, side, amountMinor, currency, pending },
});
const credited = (amountMinor: number, transferId = 'c1', pending = false): AccountEvent => ({
  type: 'AccountCredited',
  data: { transferId, amountMinor, pending },
});
const debited = (amountMinor: number, transferId = 'd1', pending = false): AccountEvent => ({
  type: 'AccountDebited',
  data: { transferId, amountMinor, pending },
});

describe('account decider', () => {
  it('opens an account', () => given([]).when(open()).then([opened()]));
  it('treats an identical open as a no-op', () => given([opened()]).when(open()).then([]));
  it('refuses to reopen with another constraint, naming the field', () => {
    const decision = accountAggregate.decide(
      open('none'),
      accountAggregate.evolve(accountAggregate.initialState, opened()),
    );
    expect(decision).toEqual({
      ok: false,
      rejection: 'account_already_exists',
      detail: { field: 'constraint' },
    });
  });
  it('refuses legs on an unknown account', () =>
    given([]).when(leg('credit', 1)).thenRejects('account_not_found'));
  it('refuses a leg in another currency', () =>
    given([opened()])
      .when(leg('credit', 1, 't', false, 'USD'))
      .thenRejects('currency_mismatch'));

  it('debits exactly the balance', () =>
    given([opened(), credited(500)])
      .when(leg('debit', 500))
      .then([debited(500, 't1')]));
  it('refuses a debit one minor unit above the balance', () =>
    given([opened(), credited(500)])
      .when(leg('debit', 501))
      .thenRejects('insufficient_funds'));
  it('counts pending debits against the balance', () =>
    given([opened(), credited(500), debited(300, 'p1', true)])
      .when(leg('debit', 201))
      .thenRejects('insufficient_funds'));
  it('does not count pending credits as funds', () =>
    given([opened(), credited(500, 'p2', true)])
      .when(leg('debit', 1))
      .thenRejects('insufficient_funds'));
  it('lets an unconstrained account go negative', () =>
    given([opened('none')])
      .when(leg('debit', 10_000))
      .then([debited(10_000, 't1')]));
  it('refuses credits above debits when credits must not exceed debits', () =>
    given([opened('credits_must_not_exceed_debits'), debited(100)])
      .when(leg('credit', 101))
      .thenRejects('credits_exceed_debits'));
  it('allows credits up to debits when credits must not exceed debits', () =>
    given([opened('credits_must_not_exceed_debits'), debited(100)])
      .when(leg('credit', 100))
      .then([credited(100, 't1')]));
  it('refuses a leg that would leave the safe-integer range', () =>
    given([opened('none'), credited(Number.MAX_SAFE_INTEGER)])
      .when(leg('credit', 1))
      .thenRejects('balance_overflow'));
  it('ignores a pending leg applied twice', () =>
    given([opened('none'), debited(5, 't1', true)])
      .when(leg('debit', 5, 't1', true))
      .then([]));

  it('posts part of a pending leg and releases the rest', () =>
    given([opened(), credited(500), debited(300, 'p1', true)])
      .when({ type: 'PostPendingLeg', data: { transferId: 'p1', side: 'debit', amountMinor: 200 } })
      .thenState((state) => {
        expect(state).toMatchObject({
          debitsPendingMinor: 0,
          debitsPostedMinor: 200,
          creditsPostedMinor: 500,
        });
      }));
  it('refuses to post more than pending', () =>
    given([opened(), credited(500), debited(300, 'p1', true)])
      .when({ type: 'PostPendingLeg', data: { transferId: 'p1', side: 'debit', amountMinor: 301 } })
      .thenRejects('amount_exceeds_pending'));
  it('refuses to post an unknown pending leg', () =>
    given([opened()])
      .when({ type: 'PostPendingLeg', data: { transferId: 'x', side: 'debit', amountMinor: 1 } })
      .thenRejects('pending_leg_not_found'));
  it('refuses to void a pending leg of the other side', () =>
    given([opened(), credited(500), debited(300, 'p1', true)])
      .when({
        type: 'VoidPendingLeg',
        data: { transferId: 'p1', side: 'credit', reason: 'voided' },
      })
      .thenRejects('pending_leg_not_found'));
  it('voids a pending leg', () =>
    given([opened(), credited(500), debited(300, 'p1', true)])
      .when({ type: 'VoidPendingLeg', data: { transferId: 'p1', side: 'debit', reason: 'voided' } })
      .then([
        {
          type: 'PendingLegVoided',
          data: { transferId: 'p1', side: 'debit', amountMinor: 300, reason: 'voided' },
        },
      ]));
  it('reverses a debit as a compensating credit', () =>
    given([opened(), credited(500), debited(500, 't1')])
      .when({
        type: 'ReverseDebit',
        data: { transferId: 't1', amountMinor: 500, reason: 'account_closed' },
      })
      .thenState((state) =>
        expect(state).toMatchObject({ creditsPostedMinor: 1000, debitsPostedMinor: 500 }),
      ));

  it('closes only at zero', () =>
    given([opened(), credited(1)])
      .when({ type: 'CloseAccount', data: { now } })
      .thenRejects('account_balance_not_zero'));
  it('refuses to close with pending transfers', () =>
    given([opened('none'), debited(1, 'p', true)])
      .when({ type: 'CloseAccount', data: { now } })
      .thenRejects('account_has_pending_transfers'));
  it('closes at zero and then refuses legs', () => {
    given([opened()])
      .when({ type: 'CloseAccount', data: { now } })
      .then([{ type: 'AccountClosed', data: { closedAt: now } }]);
    given([opened(), { type: 'AccountClosed', data: { closedAt: now } }])
      .when(leg('credit', 1))
      .thenRejects('account_closed');
  });

  it('never lets a constrained wallet go below zero, whatever the legs', () => {
    const command = fc.record({
      side: fc.constantFrom<'debit' | 'credit'>('debit', 'credit'),
      amountMinor: fc.integer({ min: 1, max: 1_000 }),
      pending: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (legs) => {
        let state = accountAggregate.evolve(accountAggregate.initialState, opened());
        legs.forEach((spec, index) => {
          const decision = accountAggregate.decide(
            leg(spec.side, spec.amountMinor, `t${index}`, spec.pending),
            state,
          );
          if (decision.ok) state = decision.events.reduce(accountAggregate.evolve, state);
        });
        if (state.status === 'unopened') throw new Error('account vanished');
        expect(state.debitsPostedMinor + state.debitsPendingMinor).toBeLessThanOrEqual(
          state.creditsPostedMinor,
        );
      }),
    );
  });
});
