import {
  transferAggregate,
  type TransferCommand,
  type TransferEvent,
  type TransferTerms,
} from '../../../domain/transfer/transfer.decider';
import { deciderSpec } from '../../support/decider-spec';

const given = deciderSpec(transferAggregate);
const now = '2026-11-22T10:00:00.000Z';
const later = '2026-11-22T10:00:30.000Z';
const terms = (overrides: Partial<TransferTerms> = {}): TransferTerms => ({
  transferId: 't1',
  debitAccountId: 'a',
  creditAccountId: 'b',
  amountMinor: 1000,
  currency: 'EUR',
  mode: 'two_phase',
  timeoutMs: 30_000,
  reference: 'order-7',
  ...overrides,
});
const request = (overrides: Partial<TransferTerms> = {}): TransferCommand => ({
  type: 'RequestTransfer',
  data: { ...terms(overrides), now },
});
const requested = (overrides: Partial<TransferTerms> = {}): TransferEvent => ({
  type: 'TransferRequested',
  data: { ...terms(overrides), requestedAt: now },
});
const pending: TransferEvent = {
  type: 'TransferPending',
  data: { expiresAt: later, pendingAt: now },
};
const post = (amountMinor: number | null): TransferCommand => ({
  type: 'RequestPendingPost',
  data: { amountMinor, now },
});
const voidIt = (reason: 'voided' | 'expired', at = now): TransferCommand => ({
  type: 'RequestPendingVoid',
  data: { reason, now: at },
});

describe('transfer decider', () => {
  it('records the intent', () => given([]).when(request()).then([requested()]));
  it('treats a retry with the same terms as a no-op', () =>
    given([requested()]).when(request()).then([]));
  it('refuses a retry with other terms, naming the field', () => {
    const state = transferAggregate.evolve(transferAggregate.initialState, requested());
    expect(transferAggregate.decide(request({ amountMinor: 999 }), state)).toEqual({
      ok: false,
      rejection: 'transfer_id_conflict',
      detail: { field: 'amountMinor' },
    });
  });
  it('keeps a refused transfer refused on retry', () => {
    const rejected: TransferEvent = {
      type: 'TransferRejected',
      data: { reason: 'insufficient_funds', side: 'debit', rejectedAt: now },
    };
    given([requested(), rejected]).when(request()).then([]);
    given([requested(), rejected]).when({ type: 'RecordLegsApplied', data: { now } }).then([]);
  });
  it('refuses a transfer to the same account', () =>
    given([])
      .when(request({ creditAccountId: 'a' }))
      .thenRejects('same_account'));
  it('refuses a timeout on a single-phase transfer', () =>
    given([])
      .when(request({ mode: 'single_phase' }))
      .thenRejects('timeout_requires_two_phase'));
  it('posts a single-phase transfer once its legs landed', () =>
    given([requested({ mode: 'single_phase', timeoutMs: null })])
      .when({ type: 'RecordLegsApplied', data: { now } })
      .then([{ type: 'TransferPosted', data: { amountMinor: 1000, postedAt: now } }]));
  it('makes a two-phase transfer pending with its expiry', () =>
    given([requested()]).when({ type: 'RecordLegsApplied', data: { now } }).then([pending]));
  it('posts at most the pending amount', () => {
    given([requested(), pending])
      .when(post(1000))
      .then([{ type: 'TransferPostRequested', data: { amountMinor: 1000, requestedAt: now } }]);
    given([requested(), pending]).when(post(1001)).thenRejects('amount_exceeds_pending');
  });
  it('posts the full amount when none is given', () =>
    given([requested(), pending])
      .when(post(null))
      .then([{ type: 'TransferPostRequested', data: { amountMinor: 1000, requestedAt: now } }]));
  it('resolves at most once', () => {
    const postRequested: TransferEvent = {
      type: 'TransferPostRequested',
      data: { amountMinor: 400, requestedAt: now },
    };
    given([requested(), pending, postRequested]).when(post(400)).then([]);
    given([requested(), pending, postRequested])
      .when(post(500))
      .thenRejects('transfer_already_posted');
    given([requested(), pending, postRequested])
      .when(voidIt('voided'))
      .thenRejects('transfer_already_posted');
    const voidRequested: TransferEvent = {
      type: 'TransferVoidRequested',
      data: { reason: 'voided', requestedAt: now },
    };
    given([requested(), pending, voidRequested])
      .when(post(1))
      .thenRejects('transfer_already_voided');
  });
  it('refuses to post a transfer that is not pending', () =>
    given([requested()]).when(post(1)).thenRejects('transfer_not_pending'));
  it('refuses to expire before the timeout', () =>
    given([requested(), pending])
      .when(voidIt('expired', '2026-11-22T10:00:29.999Z'))
      .thenRejects('transfer_not_expired_yet'));
  it('expires exactly at the timeout', () =>
    given([requested(), pending])
      .when(voidIt('expired', later))
      .then([{ type: 'TransferVoidRequested', data: { reason: 'expired', requestedAt: later } }]));
  it('refuses steps on an unknown transfer', () =>
    given([]).when(post(1)).thenRejects('transfer_not_found'));
  it('finishes a void once its legs are released', () =>
    given([
      requested(),
      pending,
      { type: 'TransferVoidRequested', data: { reason: 'voided', requestedAt: now } },
    ])
      .when({ type: 'RecordResolutionApplied', data: { now } })
      .then([{ type: 'TransferVoided', data: { reason: 'voided', voidedAt: now } }]));
});
