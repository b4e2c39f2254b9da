import { assert } from '../../domain/assert';
import type { CommandContext } from '../../domain/actors/actor-runtime.types';
import { accountView } from '../../domain/account/account.view';
import type { LedgerReply, LedgerRequest } from '../../domain/ledger/ledger';
import type { LedgerCommand, LedgerOutcome } from '../../domain/ledger/ledger.decider';
import type { StoredResponse } from '../../domain/ports/idempotency-store.port';
import { transferView } from '../../domain/transfer/transfer.view';
import { okEnvelope, sendResponse } from '../envelope';
import type { RouteMiddleware } from '../middleware/api-state';
import { answerRecord, ledgerKeyOf, withPosition } from '../middleware/ledger-idempotency';
import type { LedgerServices } from './ledger-services';
import { rejectionResponse, reportRejection } from './rejection';

type Ctx = Parameters<RouteMiddleware>[0];

/**
 * How one ledger outcome answers over HTTP. A transfer refused by an account's rule is recorded,
 * so it answers with the rule's status and code and the transfer in data. `position` is left
 * null here and filled from the commit (withPosition) when the answer is sent or replayed.
 */
export const outcomeResponse = (
  outcome: LedgerOutcome,
  statusOk: (changed: boolean) => 200 | 201,
): StoredResponse => {
  if (!outcome.ok) return rejectionResponse(outcome.rejection, outcome.detail);
  if (outcome.subject.kind === 'account') {
    const { account } = outcome.subject;
    const data = { account: accountView(account), position: null };
    const location = { location: `/v1/accounts/${account.accountId}` };
    return { status: statusOk(outcome.changed), body: okEnvelope(data), headers: location };
  }
  const { transfer } = outcome.subject;
  const data = { transfer: transferView(transfer), position: null };
  if (transfer.status === 'rejected' && transfer.rejection !== null) {
    const { reason, side } = transfer.rejection;
    return rejectionResponse(reason, { side }, data);
  }
  const location = { location: `/v1/transfers/${transfer.terms.transferId}` };
  return { status: statusOk(outcome.changed), body: okEnvelope(data), headers: location };
};

/** The rejection an outcome answers with, if any (for the security audit). */
const rejectionOf = (outcome: LedgerOutcome | undefined): string | null => {
  if (outcome === undefined) return null;
  if (!outcome.ok) return outcome.rejection;
  if (outcome.subject.kind !== 'transfer') return null;
  return outcome.subject.transfer.rejection?.reason ?? null;
};

/**
 * Runs one request through the ledger with the request's Idempotency-Key, whose record commits
 * with the events, and answers with what `respond` makes of the outcomes (or the stored record).
 */
export const executeLedgerRequest = async (
  ctx: Ctx,
  services: Pick<LedgerServices, 'ledger'>,
  request: { commands: LedgerRequest['commands']; context: CommandContext },
  respond: (outcomes: readonly LedgerOutcome[]) => StoredResponse,
): Promise<void> => {
  const key = ledgerKeyOf(ctx);
  const reply: LedgerReply = await services.ledger.execute({
    ...request,
    idempotency: { ...key, respond },
  });
  if (reply.kind === 'replay') return answerRecord(ctx, reply.record, key.fingerprint);
  const response = reply.response ?? respond(reply.outcomes);
  sendResponse(ctx, withPosition(response, reply.position));
  const rejection = reply.outcomes.length === 1 ? rejectionOf(reply.outcomes[0]) : null;
  if (rejection !== null) reportRejection(ctx, rejection);
};

/** A respond function for a request of one command. */
export const forOnly =
  (respond: (outcome: LedgerOutcome) => StoredResponse) =>
  (outcomes: readonly LedgerOutcome[]): StoredResponse => {
    const [outcome] = outcomes;
    assert(outcome !== undefined && outcomes.length === 1, 'one command, one outcome');
    return respond(outcome);
  };

/** A request of one command, not linked. */
export const single = (command: LedgerCommand): LedgerRequest['commands'] => [
  { command, linked: false },
];
