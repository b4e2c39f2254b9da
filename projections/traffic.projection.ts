import { parseStored } from '../domain/aggregate';
import type { JsonObject, RecordedEvent } from '../domain/ports/event-store.port';
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

/** An event of the batch as the fold needs it: parsed once, with its position made once. */
type BatchEvent = {
  domainEvent: TrafficEvent;
  positionKey: string;
  position: string;
  updatedAt: string;
};

/** A user's document as folded so far in this batch; written once, after the whole batch. */
type FoldedUser = {
  /** The stored document's positionKey: events at or below it are already in it. */
  storedKey: string | null;
  state: TrafficUserState;
  last: BatchEvent | null;
};

const storedKeyOf = (document: JsonObject | undefined): string | null =>
  typeof document?.['positionKey'] === 'string' ? document['positionKey'] : null;

/**
 * Every user the batch changes, folded in memory in log order with the domain's own per-user
 * changes, then put once per user however many events of the batch changed it: one read of all
 * the batch's users (from the cache, else one store round), no read or document per change.
 */
const foldUsers = async (events: readonly BatchEvent[], context: ProjectionContext) => {
  const changes = events.map((event) => trafficUserChangesOf(event.domainEvent));
  const userIds = new Set<string>();
  for (const eventChanges of changes) for (const { userId } of eventChanges) userIds.add(userId);
  const stored = await context.getMany(TRAFFIC, [...userIds]);
  const users = new Map<string, FoldedUser>();
  events.forEach((event, index) => {
    for (const change of changes[index] ?? []) {
      let user = users.get(change.userId);
      if (user === undefined) {
        const document = stored.get(change.userId);
        // Documents written before levels existed lack them: the initial state fills them in.
        const state = {
          ...initialTrafficUserState,
          ...(document?.['state'] as unknown as TrafficUserState | undefined),
        };
        user = { storedKey: storedKeyOf(document), state, last: null };
        users.set(change.userId, user);
      }
      if (user.storedKey !== null && user.storedKey >= event.positionKey) continue;
      user.state = change.apply(user.state);
      user.last = event;
    }
  });
  for (const [userId, { state, last }] of users) {
    // Null when every change was already in the stored document.
    if (last !== null) context.put(TRAFFIC, userId, trafficDocumentOf(userId, state, last));
  }
};

/**
 * A user's traffic document: the view the API shows, the state the next batch folds on, and the
 * indexed fields (allowed and exceeded for the lists, level, group and expiresAt for the node
 * user list's filters).
 */
export const trafficDocumentOf = (
  userId: string,
  state: TrafficUserState,
  last: Pick<BatchEvent, 'positionKey' | 'position' | 'updatedAt'>,
): JsonObject => {
  const { positionKey, position, updatedAt } = last;
  const planActive = state.quotaBytes > 0;
  const allowed = planActive && !state.exceeded;
  const view = { ...trafficView(userId, state), planActive, allowed, position, updatedAt };
  const { level, group, expiresAt } = state;
  return {
    view: asJson(view),
    state: asJson(state),
    positionKey,
    userId,
    allowed,
    exceeded: state.exceeded,
    level,
    group,
    expiresAt,
  };
};

/** Each reporting node's day, folded over the batch's reports and put once. */
const foldNodeDays = async (events: readonly BatchEvent[], context: ProjectionContext) => {
  const reports = events.flatMap(({ domainEvent, positionKey }) =>
    domainEvent.type === 'UsageReported' && domainEvent.data.usages.length > 0
      ? [{ data: domainEvent.data, positionKey, id: nodeDayOf(domainEvent.data) }]
      : [],
  );
  if (reports.length === 0) return;
  const stored = await context.getMany(NODE_TRAFFIC, [...new Set(reports.map(({ id }) => id))]);
  const days = new Map<string, { storedKey: string | null; view: NodeTrafficDay; last: string }>();
  for (const { data, positionKey, id } of reports) {
    let day = days.get(id);
    if (day === undefined) {
      const document = stored.get(id);
      const view = (document?.['view'] as NodeTrafficDay | undefined) ?? {
        nodeId: data.nodeId,
        day: data.recordedAt.slice(0, 10),
        uploadBytes: 0,
        downloadBytes: 0,
        userRecordCount: 0,
      };
      day = { storedKey: storedKeyOf(document), view, last: '' };
      days.set(id, day);
    }
    if (day.storedKey !== null && day.storedKey >= positionKey) continue;
    const { usages } = data;
    day.view = {
      ...day.view,
      uploadBytes: usages.reduce((sum, usage) => sum + usage.uploadBytes, day.view.uploadBytes),
      downloadBytes: usages.reduce(
        (sum, usage) => sum + usage.downloadBytes,
        day.view.downloadBytes,
      ),
      userRecordCount: day.view.userRecordCount + usages.length,
    };
    day.last = positionKey;
  }
  for (const [id, { view, last }] of days) {
    if (last === '') continue;
    const { nodeId, day } = view;
    context.put(NODE_TRAFFIC, id, { view: asJson(view), positionKey: last, nodeId, day });
  }
};

const nodeDayOf = (report: { nodeId: string; recordedAt: string }): string =>
  `${report.nodeId}:${report.recordedAt.slice(0, 10)}`;

const applyBatch = async (
  events: readonly RecordedEvent[],
  context: ProjectionContext,
): Promise<void> => {
  const batchEvents: BatchEvent[] = [];
  for (const event of events) {
    if (streamIdOf(event.stream, trafficAggregate.category) === null) continue;
    const domainEvent = parseStored(trafficAggregate, event);
    const positionKey = positionKeyOf(event.position);
    putPurchase(domainEvent, context, positionKey);
    const position = event.position.toString();
    batchEvents.push({ domainEvent, positionKey, position, updatedAt: event.metadata.occurredAt });
  }
  if (batchEvents.length === 0) return;
  await foldNodeDays(batchEvents, context);
  await foldUsers(batchEvents, context);
};

export const trafficProjection: Projection = {
  name: 'traffic',
  collections: [
    {
      name: TRAFFIC,
      // The node user list walks allowed users by id, optionally of one level or one group.
      indexes: [
        ['userId'],
        ['allowed', 'userId'],
        ['exceeded', 'userId'],
        ['allowed', 'level', 'userId'],
        ['allowed', 'group', 'userId'],
      ],
    },
    { name: PURCHASES, indexes: [['userId', 'purchasedAt']] },
    { name: NODE_TRAFFIC, indexes: [['nodeId', 'day']] },
  ],
  applyBatch,
};
