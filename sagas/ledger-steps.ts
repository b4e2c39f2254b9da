import { accountAggregate } from '../domain/account/account.decider';
import type { ActorRuntime, CommandContext } from '../domain/actors/actor-runtime';
import type { PaymentChannelGateway } from '../domain/ports/payment-channel.port';
import type { TransferTerms } from '../domain/transfer/transfer.decider';
import type { TransferProcess, TransferProcessOutcome } from '../domain/transfer/transfer.process';
import { permanent, type StepResult } from './saga-definition';

/** What the saga steps act through: the same actor runtime and transfer process as the API. */
export type LedgerPorts = {
  runtime: ActorRuntime;
  transfers: TransferProcess;
  gateways: readonly PaymentChannelGateway[];
};

export const SYSTEM_OWNER = 'system';

/** Deterministic ids of the system accounts, created on demand per currency. */
export const systemAccounts = {
  clearing: (channel: string, currency: string): string => `clearing-${channel}-${currency}`,
  refundsInTransit: (currency: string): string => `refunds-in-transit-${currency}`,
  revenue: (currency: string): string => `revenue-${currency}`,
};

/** Opens a system account unless it exists (re-opening with the same terms is a no-op). */
export const ensureSystemAccount = async (
  ports: LedgerPorts,
  accountId: string,
  currency: string,
  context: CommandContext,
): Promise<StepResult | null> => {
  const data = {
    accountId,
    ownerClientId: SYSTEM_OWNER,
    currency,
    constraint: 'none' as const,
    metadata: { system: 'true' },
    now: context.now,
  };
  const outcome = await ports.runtime.execute(
    accountAggregate,
    accountId,
    { type: 'OpenAccount', data },
    context,
  );
  return outcome.ok ? null : permanent(`system account ${accountId}: ${outcome.rejection}`);
};

/** A transfer's outcome as a step result: posted or pending is done, a refusal is permanent. */
export const transferResult = (
  outcome: TransferProcessOutcome,
  expected: 'posted' | 'pending' | 'voided',
): StepResult => {
  if (!outcome.ok) return permanent(outcome.rejection);
  const { status, rejection } = outcome.transfer;
  if (status === expected) return { kind: 'done', output: {} };
  if (status === 'rejected') return permanent(rejection?.reason ?? 'transfer_rejected');
  return permanent(`transfer_${status}`);
};

export const requestTransfer = async (
  ports: LedgerPorts,
  terms: Omit<TransferTerms, 'timeoutMs'>,
  context: CommandContext,
): Promise<StepResult> => {
  const outcome = await ports.transfers.request({ ...terms, timeoutMs: null }, context);
  return transferResult(outcome, terms.mode === 'two_phase' ? 'pending' : 'posted');
};

/** Voids a pending transfer; one never requested, or already voided, needs nothing more. */
export const voidTransfer = async (
  ports: LedgerPorts,
  transferId: string,
  context: CommandContext,
): Promise<StepResult> => {
  const outcome = await ports.transfers.void(transferId, 'voided', context);
  if (!outcome.ok) {
    if (
      outcome.rejection === 'transfer_not_found' ||
      outcome.rejection === 'transfer_already_voided'
    )
      return { kind: 'done' };
    return permanent(outcome.rejection);
  }
  if (outcome.transfer.status === 'rejected') return { kind: 'done' };
  return transferResult(outcome, 'voided');
};

export const postTransfer = async (
  ports: LedgerPorts,
  transferId: string,
  context: CommandContext,
): Promise<StepResult> =>
  transferResult(await ports.transfers.post(transferId, null, context), 'posted');

export const gatewayOf = (ports: LedgerPorts, channel: string): PaymentChannelGateway | null =>
  ports.gateways.find((gateway) => gateway.channel === channel) ?? null;
