import { parseStored } from '../domain/aggregate';
import type { RecordedEvent } from '../domain/ports/event-store.port';
import {
  initialTrafficUserState,
  trafficAggregate,
  trafficUserChangesOf,
  trafficView,
  type TrafficEvent,
  type TrafficUserState,
} from '../domain/traffic/traffic.decider';
import {
  asJson,
  includesPosition,
  positionKeyOf,
  streamIdOf,
  type Projection,
  type ProjectionContext,
} from './projection';

/**
 * traffic: one document per user with usage against quota, folded from the shard streams with
 * the domain's own per-user changes. `allowed` is what nodes ask for (the node user list): a user
 * with an active plan (a quota above zero) that is not exceeded.
 */
export const TRAFFIC = 'traffic';

/** purchases: one document per plan purchase (a grant with a subscription), by user and time. */
export const PURCHASES = 'purchases';

const putPurchase = (
  domainEvent: TrafficEvent,
  context: ProjectionContext,
  positionKey: string,
): void => {
  if (domainEvent.type !== 'QuotaGranted') return;
  const { userId, grantId, quotaBytes, grantedAt, subscription } = domainEvent.data;
  if (subscription === undefined) return;
  const { purchaseId, planId, level, group, amountMinor, currency, expiresAt } = subscription;
  const view = {
    purchaseId,
    userId,
    planId,
    amountMinor,
    currency,
    quotaBytes,
    level,
    group,
    purchasedAt: grantedAt,
    expiresAt,
  };
  // A grant id is granted once per user, so the document never changes once written.
  context.put(PURCHASES, `${userId}:${grantId}`, {
    view: asJson(view),
    positionKey,
    userId,
    purchasedAt: grantedAt,
  });
};

const apply = async (event: RecordedEvent, context: ProjectionContext): Promise<void> => {
  if (streamIdOf(event.stream, trafficAggregate.category) === null) return;
  const domainEvent = parseStored(trafficAggregate, event);
  // One UsageReported changes hundreds of users: what is the same for all of them is made once.
  const positionKey = positionKeyOf(event.position);
  const position = event.position.toString();
  const updatedAt = event.metadata.occurredAt;
  putPurchase(domainEvent, context, positionKey);
  for (const change of trafficUserChangesOf(domainEvent)) {
    const { userId } = change;
    const document = await context.get(TRAFFIC, userId);
    if (includesPosition(document, positionKey)) continue;
    // Documents written before levels existed lack them: the initial state fills them in.
    const previous = {
      ...initialTrafficUserState,
      ...(document?.['state'] as unknown as TrafficUserState | undefined),
    };
    const state = change.apply(previous);
    const planActive = state.quotaBytes > 0;
    const allowed = planActive && !state.exceeded;
    const view = { ...trafficView(userId, state), planActive, allowed, position, updatedAt };
    context.put(TRAFFIC, userId, {
      view: asJson(view),
      state: asJson(state),
      positionKey,
      userId,
      allowed,
      exceeded: state.exceeded,
    });
  }
};

export const trafficProjection: Projection = {
  name: 'traffic',
  collections: [
    { name: TRAFFIC, indexes: [['userId'], ['allowed', 'userId'], ['exceeded', 'userId']] },
    { name: PURCHASES, indexes: [['userId', 'purchasedAt']] },
  ],
  apply,
};
