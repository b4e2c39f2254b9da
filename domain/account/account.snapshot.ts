import type { SnapshotCodec } from '../aggregate';
import {
  arrayField,
  countField,
  jsonObject,
  oneOfField,
  stringField,
  stringMapField,
} from '../json-fields';
import type { JsonObject, JsonValue } from '../ports/event-store.port';
import { encodeSealedHolder, parseSealedHolder } from '../personal-data/holder';
import { accountConstraints, legSides, type AccountState, type PendingLeg } from './account.model';

const encode = (state: AccountState): JsonValue => {
  if (state.status === 'unopened') return { status: 'unopened' };
  const pendingLegs: JsonValue[] = [...state.pendingLegs].map(([transferId, leg]) => ({
    transferId,
    side: leg.side,
    amountMinor: leg.amountMinor,
  }));
  const { holder, ...rest } = state;
  return {
    ...rest,
    metadata: { ...state.metadata },
    pendingLegs,
    ...(holder === undefined ? {} : { holder: encodeSealedHolder(holder) }),
  };
};

const decodePendingLeg = (value: JsonValue): [string, PendingLeg] => {
  const leg = jsonObject(value, 'pendingLegs[]');
  const side = oneOfField(leg, 'side', legSides);
  return [stringField(leg, 'transferId'), { side, amountMinor: countField(leg, 'amountMinor') }];
};

const decode = (saved: JsonValue): AccountState => {
  const state: JsonObject = jsonObject(saved, 'account snapshot');
  const status = oneOfField(state, 'status', ['unopened', 'open', 'closed'] as const);
  if (status === 'unopened') return { status };
  return {
    status,
    accountId: stringField(state, 'accountId'),
    ownerClientId: stringField(state, 'ownerClientId'),
    currency: stringField(state, 'currency'),
    constraint: oneOfField(state, 'constraint', accountConstraints),
    metadata: stringMapField(state, 'metadata'),
    openedAt: stringField(state, 'openedAt'),
    ...(state['holder'] === undefined ? {} : { holder: parseSealedHolder(state['holder']) }),
    pendingLegs: new Map(arrayField(state, 'pendingLegs').map(decodePendingLeg)),
    debitsPostedMinor: countField(state, 'debitsPostedMinor'),
    creditsPostedMinor: countField(state, 'creditsPostedMinor'),
    debitsPendingMinor: countField(state, 'debitsPendingMinor'),
    creditsPendingMinor: countField(state, 'creditsPendingMinor'),
  };
};

/** Version 1: the state as JSON, pending legs as an array of {transferId, side, amountMinor}. */
export const accountSnapshotCodec: SnapshotCodec<AccountState> = {
  schemaVersion: 1,
  encode,
  decode,
};
