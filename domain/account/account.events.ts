import type { EventCodec, StoredEvent } from '../aggregate';
import { AssertionError } from '../assert';
import {
  assertVersionOne,
  booleanField,
  countField,
  oneOfField,
  stringField,
  stringMapField,
} from '../json-fields';
import { parseSealedHolder } from '../personal-data/holder';
import { accountConstraints, legSides, type AccountEvent } from './account.model';

/** The account's events as stored: version 1, every field checked on read. */
const parse = ({ type, data, metadata }: StoredEvent): AccountEvent => {
  assertVersionOne(type, metadata.schemaVersion);
  const transferId = (): string => stringField(data, 'transferId');
  switch (type) {
    case 'AccountOpened':
      return {
        type,
        data: {
          accountId: stringField(data, 'accountId'),
          ownerClientId: stringField(data, 'ownerClientId'),
          currency: stringField(data, 'currency'),
          constraint: oneOfField(data, 'constraint', accountConstraints),
          metadata: stringMapField(data, 'metadata'),
          openedAt: stringField(data, 'openedAt'),
          ...(data['holder'] === undefined ? {} : { holder: parseSealedHolder(data['holder']) }),
        },
      };
    case 'AccountDebited':
    case 'AccountCredited':
      return {
        type,
        data: {
          transferId: transferId(),
          amountMinor: countField(data, 'amountMinor'),
          pending: booleanField(data, 'pending'),
        },
      };
    case 'PendingLegPosted':
      return {
        type,
        data: {
          transferId: transferId(),
          side: oneOfField(data, 'side', legSides),
          pendingAmountMinor: countField(data, 'pendingAmountMinor'),
          postedAmountMinor: countField(data, 'postedAmountMinor'),
        },
      };
    case 'PendingLegVoided':
      return {
        type,
        data: {
          transferId: transferId(),
          side: oneOfField(data, 'side', legSides),
          amountMinor: countField(data, 'amountMinor'),
          reason: stringField(data, 'reason'),
        },
      };
    case 'AccountDebitReversed':
      return {
        type,
        data: {
          transferId: transferId(),
          amountMinor: countField(data, 'amountMinor'),
          reason: stringField(data, 'reason'),
        },
      };
    case 'AccountClosed':
      return { type, data: { closedAt: stringField(data, 'closedAt') } };
    default:
      throw new AssertionError(`account: unknown event type ${type}`);
  }
};

export const accountEventCodec: EventCodec<AccountEvent> = {
  schemaVersion: 1,
  encode: (event) => event.data,
  parse,
};
