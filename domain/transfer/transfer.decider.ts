import type { Aggregate } from '../aggregate';
import { assert } from '../assert';
import { accept, reject, type Decision } from '../decision';
import type { Currency } from '../money';

/**
 * A transfer's own stream records the intent first and the outcome last; the account legs in
 * between live on the account streams (see transfer.process.ts). Two-phase transfers stay
 * pending until posted (at most the pending amount), voided, or expired; they resolve once.
 */
export type TransferMode = 'single_phase' | 'two_phase';
export type TransferTerms = {
  transferId: string;
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: number;
  currency: Currency;
  mode: TransferMode;
  timeoutMs: number | null;
  reference: string;
};

export type TransferCommand =
  | { type: 'RequestTransfer'; data: TransferTerms & { now: string } }
  | { type: 'RecordLegsApplied'; data: { now: string } }
  | {
      type: 'RecordTransferRejected';
      data: { reason: string; side: 'debit' | 'credit'; now: string };
    }
  | { type: 'RequestPendingPost'; data: { amountMinor: number | null; now: string } }
  | { type: 'RequestPendingVoid'; data: { reason: 'voided' | 'expired'; now: string } }
  | { type: 'RecordResolutionApplied'; data: { now: string } };

export type TransferEvent =
  | { type: 'TransferRequested'; data: TransferTerms & { requestedAt: string } }
  | { type: 'TransferPosted'; data: { amountMinor: number; postedAt: string } }
  | { type: 'TransferPending'; data: { expiresAt: string | null; pendingAt: string } }
  | {
      type: 'TransferRejected';
      data: { reason: string; side: 'debit' | 'credit'; rejectedAt: string };
    }
  | { type: 'TransferPostRequested'; data: { amountMinor: number; requestedAt: string } }
  | { type: 'TransferVoidRequested'; data: { reason: 'voided' | 'expired'; requestedAt: string } }
  | { type: 'TransferVoided'; data: { reason: 'voided' | 'expired'; voidedAt: string } };

export type TransferStatus =
  'requested' | 'posted' | 'pending' | 'rejected' | 'post_requested' | 'void_requested' | 'voided';

export type TransferState =
  | { status: 'none' }
  | {
      status: TransferStatus;
      terms: TransferTerms;
      requestedAt: string;
      expiresAt: string | null;
      postedAmountMinor: number | null;
      resolution:
        | { kind: 'post'; amountMinor: number }
        | { kind: 'void'; reason: 'voided' | 'expired' }
        | null;
      rejection: { reason: string; side: 'debit' | 'credit' } | null;
    };

export const transferRejections = [
  'transfer_id_conflict',
  'transfer_not_found',
  'same_account',
  'timeout_requires_two_phase',
  'transfer_not_pending',
  'transfer_already_posted',
  'transfer_already_voided',
  'amount_exceeds_pending',
  'transfer_not_expired_yet',
] as const;
export type TransferRejection = (typeof transferRejections)[number];

type Known = Extract<TransferState, { terms: TransferTerms }>;
type TransferDecision = Decision<TransferEvent, TransferRejection>;

const termKeys: readonly (keyof TransferTerms)[] = [
  'debitAccountId',
  'creditAccountId',
  'amountMinor',
  'currency',
  'mode',
  'timeoutMs',
  'reference',
];

const expiryOf = (terms: TransferTerms, now: string): string | null =>
  terms.timeoutMs === null ? null : new Date(Date.parse(now) + terms.timeoutMs).toISOString();

const decideRequest = (
  data: TransferTerms & { now: string },
  state: TransferState,
): TransferDecision => {
  const { now, ...terms } = data;
  if (state.status !== 'none') {
    const differing = termKeys.find((key) => state.terms[key] !== terms[key]);
    return differing === undefined
      ? accept()
      : reject('transfer_id_conflict', { field: differing });
  }
  assert(
    Number.isSafeInteger(terms.amountMinor) && terms.amountMinor > 0,
    'RequestTransfer: bad amount',
  );
  if (terms.debitAccountId === terms.creditAccountId) return reject('same_account');
  if (terms.timeoutMs !== null && terms.mode !== 'two_phase')
    return reject('timeout_requires_two_phase');
  return accept({ type: 'TransferRequested', data: { ...terms, requestedAt: now } });
};

/** A second post/void of a resolved transfer is a no-op when it asks for the same outcome. */
const decideResolution = (
  command: Extract<TransferCommand, { type: 'RequestPendingPost' | 'RequestPendingVoid' }>,
  state: Known,
): TransferDecision => {
  const wantsPost = command.type === 'RequestPendingPost';
  const amountMinor = wantsPost ? (command.data.amountMinor ?? state.terms.amountMinor) : null;
  const resolution = state.resolution;
  if (resolution !== null) {
    const same = wantsPost
      ? resolution.kind === 'post' && resolution.amountMinor === amountMinor
      : resolution.kind === 'void';
    if (same) return accept();
    return reject(
      resolution.kind === 'post' ? 'transfer_already_posted' : 'transfer_already_voided',
    );
  }
  if (state.status !== 'pending') return reject('transfer_not_pending', { status: state.status });
  if (amountMinor !== null) {
    if (amountMinor > state.terms.amountMinor)
      return reject('amount_exceeds_pending', { pendingAmountMinor: state.terms.amountMinor });
    return accept({
      type: 'TransferPostRequested',
      data: { amountMinor, requestedAt: command.data.now },
    });
  }
  const { reason, now } = command.data as { reason: 'voided' | 'expired'; now: string };
  if (
    reason === 'expired' &&
    (state.expiresAt === null || Date.parse(now) < Date.parse(state.expiresAt))
  ) {
    return reject('transfer_not_expired_yet');
  }
  return accept({ type: 'TransferVoidRequested', data: { reason, requestedAt: now } });
};

export const decide = (command: TransferCommand, state: TransferState): TransferDecision => {
  if (command.type === 'RequestTransfer') return decideRequest(command.data, state);
  if (state.status === 'none') return reject('transfer_not_found');
  switch (command.type) {
    case 'RecordLegsApplied': {
      if (state.status !== 'requested') return accept();
      const { now } = command.data;
      if (state.terms.mode === 'two_phase') {
        return accept({
          type: 'TransferPending',
          data: { expiresAt: expiryOf(state.terms, state.requestedAt), pendingAt: now },
        });
      }
      return accept({
        type: 'TransferPosted',
        data: { amountMinor: state.terms.amountMinor, postedAt: now },
      });
    }
    case 'RecordTransferRejected': {
      if (state.status !== 'requested') return accept();
      const { reason, side, now } = command.data;
      return accept({ type: 'TransferRejected', data: { reason, side, rejectedAt: now } });
    }
    case 'RequestPendingPost':
    case 'RequestPendingVoid':
      return decideResolution(command, state);
    case 'RecordResolutionApplied': {
      const { now } = command.data;
      if (state.status === 'post_requested' && state.resolution?.kind === 'post') {
        return accept({
          type: 'TransferPosted',
          data: { amountMinor: state.resolution.amountMinor, postedAt: now },
        });
      }
      if (state.status === 'void_requested' && state.resolution?.kind === 'void') {
        return accept({
          type: 'TransferVoided',
          data: { reason: state.resolution.reason, voidedAt: now },
        });
      }
      return accept();
    }
  }
};

const moveTo = (
  state: TransferState,
  from: readonly TransferStatus[],
  status: TransferStatus,
  what: string,
): Known => {
  assert(state.status !== 'none' && from.includes(state.status), `${what}: from ${state.status}`);
  return { ...state, status };
};

export const evolve = (state: TransferState, event: TransferEvent): TransferState => {
  switch (event.type) {
    case 'TransferRequested': {
      assert(state.status === 'none', 'TransferRequested: requested twice');
      const { requestedAt, ...terms } = event.data;
      return {
        status: 'requested',
        terms,
        requestedAt,
        expiresAt: null,
        postedAmountMinor: null,
        resolution: null,
        rejection: null,
      };
    }
    case 'TransferPosted':
      return {
        ...moveTo(state, ['requested', 'post_requested'], 'posted', event.type),
        postedAmountMinor: event.data.amountMinor,
      };
    case 'TransferPending':
      return {
        ...moveTo(state, ['requested'], 'pending', event.type),
        expiresAt: event.data.expiresAt,
      };
    case 'TransferRejected': {
      const { reason, side } = event.data;
      return {
        ...moveTo(state, ['requested'], 'rejected', event.type),
        rejection: { reason, side },
      };
    }
    case 'TransferPostRequested':
      return {
        ...moveTo(state, ['pending'], 'post_requested', event.type),
        resolution: { kind: 'post', amountMinor: event.data.amountMinor },
      };
    case 'TransferVoidRequested':
      return {
        ...moveTo(state, ['pending'], 'void_requested', event.type),
        resolution: { kind: 'void', reason: event.data.reason },
      };
    case 'TransferVoided':
      return moveTo(state, ['void_requested'], 'voided', event.type);
  }
};

export const transferAggregate: Aggregate<
  TransferCommand,
  TransferEvent,
  TransferState,
  TransferRejection
> = {
  category: 'transfer',
  initialState: { status: 'none' },
  decide,
  evolve,
};
