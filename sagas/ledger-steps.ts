import type { ActorRuntime, CommandContext } from '../domain/actors/actor-runtime';
import type { Ledger } from '../domain/ledger/ledger';
import type { TrafficWriter } from '../domain/traffic/traffic-writer';
import type { LedgerCommand, LedgerOutcome } from '../domain/ledger/ledger.decider';
import type { PaymentChannelGateway } from '../domain/ports/payment-channel.port';
import type { TransferTerms } from '../domain/transfer/transfer.decider';
import { clearingAccountId, systemAccountTerms } from '../domain/ledger/top-up-credit';
import { permanent, type StepResult } from './saga-definition';

/** What the saga steps act through: the same actor runtime and ledger as the API. */
export type LedgerPorts = {
  runtime: ActorRuntime;
  ledger: Ledger;
  traffic: TrafficWriter;
  gateways: readonly PaymentChannelGateway[];
};

/** One command through the ledger, without an Idempotency-Key: sagas' ids are natural ids. */
const runOne = async (
  ports: LedgerPorts,
  command: LedgerCommand,
  context: CommandContext,
): Promise<LedgerOutcome> => {
  const reply = await ports.ledger.execute({
    commands: [{ command, linked: false }],
    context,
    idempotency: null,
  });
  const [outcome] = reply.kind === 'decided' ? reply.outcomes : [];
  if (outcome === undefined) throw new Error(`ledger: ${command.type} answered no outcome`);
  return outcome;
};

/** Deterministic ids of the system accounts, created on demand per currency. */
export const systemAccounts = {
  clearing: clearingAccountId,
  refundsInTransit: (currency: string): string => `refunds-in-transit-${currency}`,
  revenue: (currency: string): string => `revenue-${currency}`,
};

/**
 * Opens a system account unless it exists (re-opening with the same terms is a no-op). One the
 * ledger holds open with these terms needs no command: the step's transfer then takes the
 * ledger's next batch instead of waiting a batch for a no-op.
 */
export const ensureSystemAccount = async (
  ports: LedgerPorts,
  accountId: string,
  currency: string,
  context: CommandContext,
): Promise<StepResult | null> => {
  const data = systemAccountTerms(accountId, currency);
  const { state } = await ports.ledger.account(accountId);
  if (
    state.status === 'open' &&
    state.holder === undefined &&
    state.ownerClientId === data.ownerClientId &&
    state.currency === data.currency &&
    state.constraint === data.constraint &&
    JSON.stringify(state.metadata) === JSON.stringify(data.metadata)
  )
    return null;
  const outcome = await runOne(ports, { type: 'OpenAccount', data }, context);
  return outcome.ok ? null : permanent(`system account ${accountId}: ${outcome.rejection}`);
};

/** A transfer's outcome as a step result: the expected status is done, a refusal is permanent. */
const transferResult = (
  outcome: LedgerOutcome,
  expected: 'posted' | 'pending' | 'voided',
): StepResult => {
  if (!outcome.ok) return permanent(outcome.rejection);
  if (outcome.subject.kind !== 'transfer') return permanent('not_a_transfer');
  const { status, rejection } = outcome.subject.transfer;
  if (status === expected) return { kind: 'done', output: {} };
  if (status === 'rejected') return permanent(rejection?.reason ?? 'transfer_rejected');
  return permanent(`transfer_${status}`);
};

export const requestTransfer = async (
  ports: LedgerPorts,
  terms: Omit<TransferTerms, 'timeoutMs'>,
  context: CommandContext,
): Promise<StepResult> => {
  const data = { ...terms, timeoutMs: null };
  const outcome = await runOne(ports, { type: 'CreateTransfer', data }, context);
  return transferResult(outcome, terms.mode === 'two_phase' ? 'pending' : 'posted');
};

/** Voids a pending transfer; one never requested, or already voided, needs nothing more. */
export const voidTransfer = async (
  ports: LedgerPorts,
  transferId: string,
  context: CommandContext,
): Promise<StepResult> => {
  const data = { transferId, reason: 'voided' as const };
  const outcome = await runOne(ports, { type: 'VoidTransfer', data }, context);
  if (!outcome.ok) {
    if (
      outcome.rejection === 'transfer_not_found' ||
      outcome.rejection === 'transfer_already_voided'
    )
      return { kind: 'done' };
    return permanent(outcome.rejection);
  }
  return transferResult(outcome, 'voided');
};

export const postTransfer = async (
  ports: LedgerPorts,
  transferId: string,
  context: CommandContext,
): Promise<StepResult> => {
  const data = { transferId, amountMinor: null };
  return transferResult(await runOne(ports, { type: 'PostTransfer', data }, context), 'posted');
};

export const gatewayOf = (ports: LedgerPorts, channel: string): PaymentChannelGateway | null =>
  ports.gateways.find((gateway) => gateway.channel === channel) ?? null;
