import type { ActorRuntime, CommandContext } from '../actors/actor-runtime';
import {
  accountAggregate,
  type AccountCommand,
  type AccountRejection,
} from '../account/account.decider';
import { assert } from '../assert';
import type { RejectionDetail } from '../decision';
import { deterministicEventId } from '../event-ids';
import type { EventStore } from '../ports/event-store.port';
import { findAccountEvent } from './leg-lookup';
import {
  transferAggregate,
  type TransferCommand,
  type TransferRejection,
  type TransferState,
  type TransferTerms,
} from './transfer.decider';

/**
 * Runs a transfer across its two account streams: intent on the transfer stream, debit leg, credit
 * leg (compensating the debit if the credit side refuses), outcome on the transfer stream. Every
 * step has a deterministic event id, and a transfer found half-done is resumed by checking which
 * legs already landed, so neither a retry nor a crash can apply a leg twice.
 */
export type KnownTransfer = Exclude<TransferState, { status: 'none' }>;
export type TransferProcessOutcome =
  | { ok: true; transfer: KnownTransfer; position: bigint | null }
  | { ok: false; rejection: TransferRejection; detail: RejectionDetail; position: bigint | null };

export type TransferProcess = {
  request(terms: TransferTerms, context: CommandContext): Promise<TransferProcessOutcome>;
  post(
    transferId: string,
    amountMinor: number | null,
    context: CommandContext,
  ): Promise<TransferProcessOutcome>;
  void(
    transferId: string,
    reason: 'voided' | 'expired',
    context: CommandContext,
  ): Promise<TransferProcessOutcome>;
  /** Drives a transfer left half-done (crash, outage) to its outcome. */
  resume(transferId: string, context: CommandContext): Promise<TransferProcessOutcome>;
};

type LegResult = { ok: true } | { ok: false; rejection: AccountRejection };

export const createTransferProcess = (deps: {
  runtime: ActorRuntime;
  store: EventStore;
  legLookupPageEventCountMax: number;
}): TransferProcess => {
  const { runtime, store } = deps;
  const tails = new Map<string, Promise<unknown>>();

  /** Operations on one transfer run one after another inside this process. */
  const exclusive = <T>(transferId: string, work: () => Promise<T>): Promise<T> => {
    const previous = tails.get(transferId) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    tails.set(transferId, tail);
    void tail.then(() => tails.get(transferId) === tail && tails.delete(transferId));
    return result;
  };

  const onTransfer = (
    id: string,
    command: TransferCommand,
    context: CommandContext,
    step: string,
  ) =>
    runtime.execute(transferAggregate, id, command, { ...context, eventIdSeed: `${id}:${step}` });

  const onAccount = async (
    accountId: string,
    command: AccountCommand,
    context: CommandContext,
    seed: string,
  ): Promise<LegResult> => {
    const outcome = await runtime.execute(accountAggregate, accountId, command, {
      ...context,
      eventIdSeed: seed,
    });
    return outcome.ok ? { ok: true } : { ok: false, rejection: outcome.rejection };
  };

  const requestedPosition = async (transferId: string): Promise<bigint> => {
    const [first] = await store.readStream(`transfer-${transferId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 1,
    });
    assert(first !== undefined, `transfer ${transferId}: stream vanished`);
    return first.position;
  };

  /** Whether the leg written with `seed` already landed; `null` on the fresh path means "cannot have". */
  const landed = async (accountId: string, seed: string, since: bigint | null): Promise<boolean> =>
    since !== null &&
    (await findAccountEvent(
      store,
      accountId,
      deterministicEventId(seed, 0),
      since,
      deps.legLookupPageEventCountMax,
    )) !== null;

  const applyLegs = async (
    transfer: KnownTransfer,
    context: CommandContext,
    since: bigint | null,
  ): Promise<void> => {
    const {
      transferId: id,
      debitAccountId,
      creditAccountId,
      amountMinor,
      currency,
      mode,
    } = transfer.terms;
    const pending = mode === 'two_phase';
    const reject = (reason: string, side: 'debit' | 'credit') =>
      onTransfer(
        id,
        { type: 'RecordTransferRejected', data: { reason, side, now: context.now } },
        context,
        'outcome',
      );
    const compensationSeed = `${id}:debit-compensation`;
    if (await landed(debitAccountId, compensationSeed, since)) {
      await reject('credit_leg_refused', 'credit');
      return;
    }
    if (!(await landed(debitAccountId, `${id}:debit`, since))) {
      const debit = await onAccount(
        debitAccountId,
        {
          type: 'ApplyLeg',
          data: { transferId: id, side: 'debit', amountMinor, currency, pending },
        },
        context,
        `${id}:debit`,
      );
      if (!debit.ok) {
        await reject(debit.rejection, 'debit');
        return;
      }
    }
    if (!(await landed(creditAccountId, `${id}:credit`, since))) {
      const credit = await onAccount(
        creditAccountId,
        {
          type: 'ApplyLeg',
          data: { transferId: id, side: 'credit', amountMinor, currency, pending },
        },
        context,
        `${id}:credit`,
      );
      if (!credit.ok) {
        const compensation: AccountCommand = pending
          ? {
              type: 'VoidPendingLeg',
              data: { transferId: id, side: 'debit', reason: credit.rejection },
            }
          : {
              type: 'ReverseDebit',
              data: { transferId: id, amountMinor, reason: credit.rejection },
            };
        const compensated = await onAccount(
          debitAccountId,
          compensation,
          context,
          compensationSeed,
        );
        assert(
          compensated.ok || compensated.rejection === 'pending_leg_not_found',
          `transfer ${id}: compensation refused`,
        );
        await reject(credit.rejection, 'credit');
        return;
      }
    }
    await onTransfer(
      id,
      { type: 'RecordLegsApplied', data: { now: context.now } },
      context,
      'outcome',
    );
  };

  /** Posting or voiding pending legs is idempotent in the account decider: a leg already resolved is gone. */
  const resolveLegs = async (transfer: KnownTransfer, context: CommandContext): Promise<void> => {
    const { transferId: id, debitAccountId, creditAccountId } = transfer.terms;
    const resolution = transfer.resolution;
    assert(resolution !== null, `transfer ${id}: no resolution to apply`);
    for (const [side, accountId] of [
      ['debit', debitAccountId],
      ['credit', creditAccountId],
    ] as const) {
      const command: AccountCommand =
        resolution.kind === 'post'
          ? {
              type: 'PostPendingLeg',
              data: { transferId: id, side, amountMinor: resolution.amountMinor },
            }
          : { type: 'VoidPendingLeg', data: { transferId: id, side, reason: resolution.reason } };
      const result = await onAccount(
        accountId,
        command,
        context,
        `${id}:${resolution.kind}-${side}`,
      );
      assert(
        result.ok || result.rejection === 'pending_leg_not_found',
        `transfer ${id}: ${resolution.kind} of ${side} leg refused`,
      );
    }
    await onTransfer(
      id,
      { type: 'RecordResolutionApplied', data: { now: context.now } },
      context,
      'resolution-applied',
    );
  };

  /** Moves a transfer through whatever steps remain and reports where it ended. */
  const drive = async (
    id: string,
    context: CommandContext,
    freshIntent: boolean,
  ): Promise<TransferProcessOutcome> => {
    let current = await runtime.read(transferAggregate, id);
    if (current.state.status === 'requested') {
      await applyLegs(current.state, context, freshIntent ? null : await requestedPosition(id));
      current = await runtime.read(transferAggregate, id);
    }
    if (current.state.status === 'post_requested' || current.state.status === 'void_requested') {
      await resolveLegs(current.state, context);
      current = await runtime.read(transferAggregate, id);
    }
    if (current.state.status === 'none')
      return { ok: false, rejection: 'transfer_not_found', detail: {}, position: null };
    return { ok: true, transfer: current.state, position: current.position };
  };

  const resolve = (
    id: string,
    command: TransferCommand,
    context: CommandContext,
  ): Promise<TransferProcessOutcome> =>
    exclusive(id, async () => {
      const decided = await onTransfer(id, command, context, 'resolution-requested');
      if (!decided.ok)
        return {
          ok: false,
          rejection: decided.rejection,
          detail: decided.detail,
          position: decided.position,
        };
      return drive(id, context, false);
    });

  return {
    request: (terms, context) =>
      exclusive(terms.transferId, async () => {
        const decided = await onTransfer(
          terms.transferId,
          { type: 'RequestTransfer', data: { ...terms, now: context.now } },
          context,
          'requested',
        );
        if (!decided.ok)
          return {
            ok: false,
            rejection: decided.rejection,
            detail: decided.detail,
            position: decided.position,
          };
        return drive(terms.transferId, context, decided.eventCount > 0);
      }),
    post: (id, amountMinor, context) =>
      resolve(id, { type: 'RequestPendingPost', data: { amountMinor, now: context.now } }, context),
    void: (id, reason, context) =>
      resolve(id, { type: 'RequestPendingVoid', data: { reason, now: context.now } }, context),
    resume: (id, context) => exclusive(id, () => drive(id, context, false)),
  };
};
