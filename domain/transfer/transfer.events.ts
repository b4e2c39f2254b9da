import type { EventCodec, StoredEvent } from '../aggregate';
import { AssertionError } from '../assert';
import {
  assertVersionOne,
  countField,
  nullableCountField,
  nullableStringField,
  oneOfField,
  stringField,
} from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';
import type { TransferEvent, TransferTerms } from './transfer.model';

const MODES = ['single_phase', 'two_phase'] as const;
const SIDES = ['debit', 'credit'] as const;
const VOID_REASONS = ['voided', 'expired'] as const;

const termsOf = (data: JsonObject): TransferTerms => ({
  transferId: stringField(data, 'transferId'),
  debitAccountId: stringField(data, 'debitAccountId'),
  creditAccountId: stringField(data, 'creditAccountId'),
  amountMinor: countField(data, 'amountMinor'),
  currency: stringField(data, 'currency'),
  mode: oneOfField(data, 'mode', MODES),
  timeoutMs: nullableCountField(data, 'timeoutMs'),
  reference: stringField(data, 'reference'),
});

/**
 * The transfer's events as stored: version 1, every field checked on read, including the events
 * of the four-step process before the ledger (read, never written).
 */
const parse = ({ type, data, metadata }: StoredEvent): TransferEvent => {
  assertVersionOne(type, metadata.schemaVersion);
  switch (type) {
    case 'TransferCreated':
      return {
        type,
        data: {
          ...termsOf(data),
          createdAt: stringField(data, 'createdAt'),
          status: oneOfField(data, 'status', ['posted', 'pending'] as const),
          expiresAt: nullableStringField(data, 'expiresAt'),
        },
      };
    case 'TransferRefused':
      return {
        type,
        data: {
          ...termsOf(data),
          refusedAt: stringField(data, 'refusedAt'),
          reason: stringField(data, 'reason'),
          side: oneOfField(data, 'side', SIDES),
        },
      };
    case 'TransferPosted':
      return {
        type,
        data: {
          amountMinor: countField(data, 'amountMinor'),
          postedAt: stringField(data, 'postedAt'),
        },
      };
    case 'TransferVoided':
      return {
        type,
        data: {
          reason: oneOfField(data, 'reason', VOID_REASONS),
          voidedAt: stringField(data, 'voidedAt'),
        },
      };
    case 'TransferRequested':
      return { type, data: { ...termsOf(data), requestedAt: stringField(data, 'requestedAt') } };
    case 'TransferPending':
      return {
        type,
        data: {
          expiresAt: nullableStringField(data, 'expiresAt'),
          pendingAt: stringField(data, 'pendingAt'),
        },
      };
    case 'TransferRejected':
      return {
        type,
        data: {
          reason: stringField(data, 'reason'),
          side: oneOfField(data, 'side', SIDES),
          rejectedAt: stringField(data, 'rejectedAt'),
        },
      };
    case 'TransferPostRequested':
      return {
        type,
        data: {
          amountMinor: countField(data, 'amountMinor'),
          requestedAt: stringField(data, 'requestedAt'),
        },
      };
    case 'TransferVoidRequested':
      return {
        type,
        data: {
          reason: oneOfField(data, 'reason', VOID_REASONS),
          requestedAt: stringField(data, 'requestedAt'),
        },
      };
    default:
      throw new AssertionError(`transfer: unknown event type ${type}`);
  }
};

export const transferEventCodec: EventCodec<TransferEvent> = {
  schemaVersion: 1,
  encode: (event) => event.data,
  parse,
};
