import type { RecordedEvent } from '../domain/ports/event-store.port';
import {
  transferAggregate,
  type TransferEvent,
  type TransferState,
} from '../domain/transfer/transfer.decider';
import { transferView } from '../domain/transfer/transfer.view';
import { ACCOUNTS } from './accounts.projection';
import {
  alreadyApplied,
  asJson,
  positionKeyOf,
  streamIdOf,
  type Projection,
  type ProjectionContext,
} from './projection';

/**
 * transfers: one document per transfer. It records the owner of the debit account (read from the
 * accounts read model of the same generation, whose AccountOpened precedes any transfer on it),
 * because merchants see the transfers out of their own accounts.
 */
export const TRANSFERS = 'transfers';

const ownerOf = async (context: ProjectionContext, accountId: string): Promise<string | null> => {
  const account = await context.get(ACCOUNTS, accountId);
  const owner = account?.['ownerClientId'];
  return typeof owner === 'string' ? owner : null;
};

const apply = async (event: RecordedEvent, context: ProjectionContext): Promise<void> => {
  const transferId = streamIdOf(event.stream, 'transfer');
  if (transferId === null) return;
  const document = await context.get(TRANSFERS, transferId);
  if (alreadyApplied(document, event)) return;
  const previous =
    (document?.['state'] as unknown as TransferState | undefined) ?? transferAggregate.initialState;
  const state = transferAggregate.evolve(previous, {
    type: event.type,
    data: event.data,
  } as TransferEvent);
  if (state.status === 'none') return;
  const view = asJson({
    ...transferView(state),
    position: event.position.toString(),
    updatedAt: event.metadata.occurredAt,
  });
  const stored = document?.['debitOwnerClientId'];
  const debitOwnerClientId =
    typeof stored === 'string'
      ? stored
      : ((await ownerOf(context, state.terms.debitAccountId)) ?? '');
  context.put(TRANSFERS, transferId, {
    view,
    state: asJson(state),
    positionKey: positionKeyOf(event.position),
    status: state.status,
    debitAccountId: state.terms.debitAccountId,
    creditAccountId: state.terms.creditAccountId,
    debitOwnerClientId,
    currency: state.terms.currency,
    requestedAt: state.requestedAt,
  });
  if (previous.status !== state.status)
    context.announce({ stream: event.stream, position: event.position, kind: 'transfer', view });
};

export const transfersProjection: Projection = {
  name: 'transfers',
  collections: [
    {
      name: TRANSFERS,
      indexes: [
        ['requestedAt'],
        ['status', 'requestedAt'],
        ['debitOwnerClientId', 'requestedAt'],
        ['debitAccountId', 'requestedAt'],
        ['creditAccountId', 'requestedAt'],
      ],
    },
  ],
  apply,
};
