import type { StreamFold } from '../aggregate';
import { assert } from '../assert';
import type { RejectionDetail } from '../decision';
import { transferEventCodec } from './transfer.events';
import type {
  LegacyTransferEvent,
  LegSideName,
  TransferEvent,
  TransferTerms,
  VoidReason,
} from './transfer.model';

/**
 * A transfer's own stream. The ledger writes one event per state change, in the same atomic
 * append as the account legs: `TransferCreated` (posted at once, or pending), `TransferRefused`
 * (a refused id stays refused), then for a pending one `TransferPosted` (at most the pending
 * amount) or `TransferVoided` (by request or expiry), once.
 *
 * Logs written before the ledger hold the four-step process of that version (intent, legs,
 * outcome; `TransferRequested` … `TransferVoided`): they are folded here into the same states.
 */
export * from './transfer.model';

/** 'requested', 'post_requested' and 'void_requested' exist only in logs of the old process. */
type TransferStatus =
  'requested' | 'posted' | 'pending' | 'rejected' | 'post_requested' | 'void_requested' | 'voided';

export type KnownTransfer = {
  status: TransferStatus;
  terms: TransferTerms;
  requestedAt: string;
  expiresAt: string | null;
  postedAmountMinor: number | null;
  resolution: { kind: 'post'; amountMinor: number } | { kind: 'void'; reason: VoidReason } | null;
  rejection: { reason: string; side: LegSideName } | null;
};
export type TransferState = { status: 'none' } | KnownTransfer;

const transferRejections = [
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
type Refusal = { ok: false; rejection: TransferRejection; detail: RejectionDetail };

const termKeys: readonly (keyof TransferTerms)[] = [
  'debitAccountId',
  'creditAccountId',
  'amountMinor',
  'currency',
  'mode',
  'timeoutMs',
  'reference',
];

export const expiryOf = (terms: TransferTerms, now: string): string | null =>
  terms.timeoutMs === null ? null : new Date(Date.parse(now) + terms.timeoutMs).toISOString();

/** What a create asks of the ledger: nothing (the id exists with these terms), or new legs. */
type CreateCheck = { ok: true; existing: KnownTransfer | null } | Refusal;

/** A create against the transfer's state: a retry with the same terms is answered as it is. */
export const checkCreate = (terms: TransferTerms, state: TransferState): CreateCheck => {
  assert(
    Number.isSafeInteger(terms.amountMinor) && terms.amountMinor > 0,
    'CreateTransfer: amountMinor must be a positive safe integer',
  );
  if (state.status !== 'none') {
    const differing = termKeys.find((key) => state.terms[key] !== terms[key]);
    if (differing === undefined) return { ok: true, existing: state };
    return { ok: false, rejection: 'transfer_id_conflict', detail: { field: differing } };
  }
  if (terms.debitAccountId === terms.creditAccountId)
    return { ok: false, rejection: 'same_account', detail: {} };
  if (terms.timeoutMs !== null && terms.mode !== 'two_phase')
    return { ok: false, rejection: 'timeout_requires_two_phase', detail: {} };
  return { ok: true, existing: null };
};

type ResolveRequest =
  { kind: 'post'; amountMinor: number | null } | { kind: 'void'; reason: VoidReason };

/** What a post or void asks of the ledger: nothing (already so), or moving the pending legs. */
type ResolveCheck =
  { ok: true; transfer: KnownTransfer; apply: KnownTransfer['resolution'] } | Refusal;

/** A second post/void of a resolved transfer is a no-op when it asks for the same outcome. */
export const checkResolve = (
  request: ResolveRequest,
  state: TransferState,
  now: string,
): ResolveCheck => {
  if (state.status === 'none') return { ok: false, rejection: 'transfer_not_found', detail: {} };
  const amountMinor =
    request.kind === 'post' ? (request.amountMinor ?? state.terms.amountMinor) : null;
  const settled = state.resolution;
  if (settled !== null) {
    const same =
      request.kind === 'post'
        ? settled.kind === 'post' && settled.amountMinor === amountMinor
        : settled.kind === 'void';
    if (same && (state.status === 'posted' || state.status === 'voided'))
      return { ok: true, transfer: state, apply: null };
    const rejection =
      settled.kind === 'post' ? 'transfer_already_posted' : 'transfer_already_voided';
    return { ok: false, rejection, detail: {} };
  }
  if (state.status !== 'pending')
    return { ok: false, rejection: 'transfer_not_pending', detail: { status: state.status } };
  if (request.kind === 'post') {
    const posted = amountMinor ?? state.terms.amountMinor;
    if (posted > state.terms.amountMinor)
      return {
        ok: false,
        rejection: 'amount_exceeds_pending',
        detail: { pendingAmountMinor: state.terms.amountMinor },
      };
    return { ok: true, transfer: state, apply: { kind: 'post', amountMinor: posted } };
  }
  if (
    request.reason === 'expired' &&
    (state.expiresAt === null || Date.parse(now) < Date.parse(state.expiresAt))
  )
    return { ok: false, rejection: 'transfer_not_expired_yet', detail: {} };
  return { ok: true, transfer: state, apply: { kind: 'void', reason: request.reason } };
};

const moveTo = (
  state: TransferState,
  from: readonly TransferStatus[],
  status: TransferStatus,
  what: string,
): KnownTransfer => {
  assert(state.status !== 'none' && from.includes(state.status), `${what}: from ${state.status}`);
  return { ...state, status };
};

const fresh = (terms: TransferTerms, requestedAt: string): KnownTransfer => ({
  status: 'requested',
  terms,
  requestedAt,
  expiresAt: null,
  postedAmountMinor: null,
  resolution: null,
  rejection: null,
});

const evolveLegacy = (state: TransferState, event: LegacyTransferEvent): TransferState => {
  switch (event.type) {
    case 'TransferRequested': {
      assert(state.status === 'none', 'TransferRequested: requested twice');
      const { requestedAt, ...terms } = event.data;
      return fresh(terms, requestedAt);
    }
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
  }
};

export const evolve = (state: TransferState, event: TransferEvent): TransferState => {
  switch (event.type) {
    case 'TransferCreated': {
      assert(state.status === 'none', 'TransferCreated: created twice');
      const { createdAt, status, expiresAt, ...terms } = event.data;
      assert((status === 'pending') === (terms.mode === 'two_phase'), 'TransferCreated: status');
      const created = { ...fresh(terms, createdAt), status, expiresAt };
      return status === 'posted' ? { ...created, postedAmountMinor: terms.amountMinor } : created;
    }
    case 'TransferRefused': {
      assert(state.status === 'none', 'TransferRefused: after creation');
      const { refusedAt, reason, side, ...terms } = event.data;
      return { ...fresh(terms, refusedAt), status: 'rejected', rejection: { reason, side } };
    }
    case 'TransferPosted': {
      // Legacy logs post a single-phase transfer from 'requested'; the ledger posts from
      // 'pending' (and writes the resolution with it).
      const moved = moveTo(state, ['requested', 'pending', 'post_requested'], 'posted', event.type);
      const resolution =
        moved.terms.mode === 'two_phase'
          ? { kind: 'post' as const, amountMinor: event.data.amountMinor }
          : null;
      assert(
        event.data.amountMinor <= moved.terms.amountMinor,
        'TransferPosted: more than the transfer',
      );
      return { ...moved, postedAmountMinor: event.data.amountMinor, resolution };
    }
    case 'TransferVoided':
      return {
        ...moveTo(state, ['pending', 'void_requested'], 'voided', event.type),
        resolution: { kind: 'void', reason: event.data.reason },
      };
    default:
      return evolveLegacy(state, event);
  }
};

/** How a transfer stream is folded (loads, reads, projections). */
export const transferStream: StreamFold<TransferEvent, TransferState> = {
  category: 'transfer',
  initialState: { status: 'none' },
  evolve,
  eventCodec: transferEventCodec,
};
