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

/**
 * node_traffic: bytes up and down per reporting node client per UTC day (of the report's
 * recordedAt), summed over its reports' counted usages. 2^53 bytes is 9 PB per node and day.
 */
export const NODE_TRAFFIC = 'node_traffic';

const addNodeTraffic = async (
  domainEvent: TrafficEvent,
  context: ProjectionContext,
  positionKey: string,
): Promise<void> => {
  if (domainEvent.type !== 'UsageReported' || domainEvent.data.usages.length === 0) return;
  const { nodeId, usages, recordedAt } = domainEvent.data;
  const day = recordedAt.slice(0, 10);
  const id = `${nodeId}:${day}`;
  const document = await context.get(NODE_TRAFFIC, id);
  if (includesPosition(document, positionKey)) return;
  const previous = (document?.['view'] as NodeTrafficDay | undefined) ?? {
    nodeId,
    day,
    uploadBytes: 0,
    downloadBytes: 0,
    userRecordCount: 0,
  };
  const view: NodeTrafficDay = {
    ...previous,
    uploadBytes: usages.reduce((sum, usage) => sum + usage.uploadBytes, previous.uploadBytes),
    downloadBytes: usages.reduce((sum, usage) => sum + usage.downloadBytes, previous.downloadBytes),
    userRecordCount: previous.userRecordCount + usages.length,
  };
  context.put(NODE_TRAFFIC, id, { view: asJson(view), positionKey, nodeId, day });
};

type NodeTrafficDay = {
  nodeId: string;
  day: string;
  uploadBytes: number;
  downloadBytes: number;
  /** Users' records counted (a user reported twice in a day counts twice). */
  userRecordCount: number;
};

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
  await addNodeTraffic(domainEvent, context, positionKey);
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
    { name: NODE_TRAFFIC, indexes: [['nodeId', 'day']] },
  ],
  apply,
};
