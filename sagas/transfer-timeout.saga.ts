import { transferAggregate } from '../domain/transfer/transfer.decider';
import type { LedgerPorts } from './ledger-steps';
import { stringField } from '../domain/json-fields';
import { permanent, type SagaDefinition } from './saga-definition';

/**
 * A pending transfer with a timeout is voided once it elapses, unless posted or voided first.
 * A transfer's first outcome is at revision 1, right after its request: a TransferPosted there
 * is single-phase and never had a saga to wake, so it is not routed (one wasted saga load per
 * transfer otherwise).
 */
const SINGLE_PHASE_OUTCOME_REVISION = 1;

export const transferTimeoutSaga = (ports: LedgerPorts): SagaDefinition => ({
  name: 'transfer_timeout',
  triggers: ['transfer.TransferPending', 'transfer.TransferPosted', 'transfer.TransferVoided'],
  route: (event) => {
    const transferId = event.stream.slice('transfer-'.length);
    if (event.type === 'TransferPosted' && event.revision === SINGLE_PHASE_OUTCOME_REVISION)
      return null;
    if (event.type !== 'TransferPending') return { kind: 'wake', sagaId: transferId };
    return typeof event.data['expiresAt'] === 'string'
      ? { kind: 'start', sagaId: transferId, input: { transferId } }
      : null;
  },
  steps: [
    {
      name: 'void_when_due',
      run: async ({ input, nowMs, commandContext }) => {
        const transferId = stringField(input, 'transferId');
        const { state } = await ports.runtime.read(transferAggregate, transferId);
        if (state.status === 'none') return permanent('transfer_not_found');
        if (state.status !== 'pending' || state.expiresAt === null)
          return { kind: 'done', output: { voided: state.status === 'voided' } };
        const expiresAtMs = Date.parse(state.expiresAt);
        if (nowMs < expiresAtMs) return { kind: 'wait', untilMs: expiresAtMs };
        const outcome = await ports.transfers.void(transferId, 'expired', commandContext('void'));
        if (!outcome.ok)
          return outcome.rejection === 'transfer_already_posted'
            ? { kind: 'done', output: { voided: false } }
            : permanent(outcome.rejection);
        return { kind: 'done', output: { voided: true } };
      },
    },
  ],
});
