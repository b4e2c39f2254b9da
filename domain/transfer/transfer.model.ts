import type { Currency } from '../money';

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
export type LegSideName = 'debit' | 'credit';
export type VoidReason = 'voided' | 'expired';

export type TransferEvent =
  | {
      type: 'TransferCreated';
      data: TransferTerms & {
        createdAt: string;
        status: 'posted' | 'pending';
        expiresAt: string | null;
      };
    }
  | {
      type: 'TransferRefused';
      data: TransferTerms & { refusedAt: string; reason: string; side: LegSideName };
    }
  | { type: 'TransferPosted'; data: { amountMinor: number; postedAt: string } }
  | { type: 'TransferVoided'; data: { reason: VoidReason; voidedAt: string } }
  | LegacyTransferEvent;

/** The events of the four-step process of the version before the ledger: read, never written. */
export type LegacyTransferEvent =
  | { type: 'TransferRequested'; data: TransferTerms & { requestedAt: string } }
  | { type: 'TransferPending'; data: { expiresAt: string | null; pendingAt: string } }
  | { type: 'TransferRejected'; data: { reason: string; side: LegSideName; rejectedAt: string } }
  | { type: 'TransferPostRequested'; data: { amountMinor: number; requestedAt: string } }
  | { type: 'TransferVoidRequested'; data: { reason: VoidReason; requestedAt: string } };
