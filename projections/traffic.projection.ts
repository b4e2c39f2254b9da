import type { RecordedEvent } from '../domain/ports/event-store.port';
import { trafficAggregate, trafficView } from '../domain/traffic/traffic.decider';
import {
  foldAggregateEvent,
  asJson,
  positionKeyOf,
  type Projection,
  type ProjectionContext,
} from './projection';

/**
 * traffic: one document per user with usage against quota. `allowed` is what nodes ask for (the
 * node user list): a user with an active plan (a quota above zero) that is not exceeded.
 */
export const TRAFFIC = 'traffic';

const apply = async (event: RecordedEvent, context: ProjectionContext): Promise<void> => {
  const folded = await foldAggregateEvent(trafficAggregate, TRAFFIC, event, context);
  if (folded === null) return;
  const { id: userId, state } = folded;
  const planActive = state.quotaBytes > 0;
  const allowed = planActive && !state.exceeded;
  const view = asJson({
    ...trafficView(userId, state),
    planActive,
    allowed,
    position: event.position.toString(),
    updatedAt: event.metadata.occurredAt,
  });
  context.put(TRAFFIC, userId, {
    view,
    state: asJson(state),
    positionKey: positionKeyOf(event.position),
    userId,
    allowed,
    exceeded: state.exceeded,
  });
};

export const trafficProjection: Projection = {
  name: 'traffic',
  collections: [
    { name: TRAFFIC, indexes: [['userId'], ['allowed', 'userId'], ['exceeded', 'userId']] },
  ],
  apply,
};
