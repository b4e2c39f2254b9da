import type { RecordedEvent } from '../domain/ports/event-store.port';
import { transferStream } from '../domain/transfer/transfer.decider';
import { transferView } from '../domain/transfer/transfer.view';
import { ACCOUNTS } from './accounts.projection';
import {
  foldAggregateEvent,
  asJson,
  positionKeyOf,
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
  const folded = await foldAggregateEvent(transferStream, TRANSFERS, event, context);
  if (folded === null) return;
  const { id: transferId, document, previous, state } = folded;
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
