import { parseStored } from '../domain/aggregate';
import { assert } from '../domain/assert';
import type { JsonObject, JsonValue } from '../domain/ports/event-store.port';
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
  type ProjectionUnit,
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
 * Folds every user the batch changes into the unit's users, in log order, with the domain's own
 * per-user changes: users the unit does not hold yet are read once, all together (from the cache,
 * else one store round), and no document is built here: `flush` puts each changed user once per
 * unit however many events and batches changed it.
 */
const foldUsers = async (
  events: readonly BatchEvent[],
  context: ProjectionContext,
  users: Map<string, FoldedUser>,
): Promise<void> => {
  const changes = events.map((event) => trafficUserChangesOf(event.domainEvent));
  const missing = new Set<string>();
  for (const eventChanges of changes)
    for (const { userId } of eventChanges) if (!users.has(userId)) missing.add(userId);
  const stored = missing.size === 0 ? null : await context.getMany(TRAFFIC, [...missing]);
  for (const userId of missing) {
    const document = stored?.get(userId);
    const state = document === undefined ? initialTrafficUserState : trafficStateOf(document);
    users.set(userId, { storedKey: storedKeyOf(document), state, last: null });
  }
  events.forEach((event, index) => {
    for (const change of changes[index] ?? []) {
      const user = users.get(change.userId);
      assert(user !== undefined, 'traffic fold: every user of the batch is loaded first');
      if (user.storedKey !== null && user.storedKey >= event.positionKey) continue;
      user.state = change.apply(user.state);
      user.last = event;
    }
  });
};

/**
 * A user's traffic document, flat: the user's state (what the next unit folds on), the position
 * and time of the last event folded in, and `allowed` (an active plan and quota left). The state's
 * exceeded, level, group and expiresAt, with userId and allowed, are the indexed fields (the lists
 * and the node user list's filters). The view the API shows is made from it when read
 * (`trafficViewOf`), so each write stores the state once (version 4 stored view and state both).
 */
export const trafficDocumentOf = (
  userId: string,
  state: TrafficUserState,
  last: Pick<BatchEvent, 'positionKey' | 'position' | 'updatedAt'>,
): JsonObject => {
  const { positionKey, position, updatedAt } = last;
  const { quotaBytes, uploadBytes, downloadBytes, exceeded, grantIds, resetIds } = state;
  const { level, group, expiresAt } = state;
  return {
    userId,
    quotaBytes,
    uploadBytes,
    downloadBytes,
    exceeded,
    grantIds: [...grantIds],
    resetIds: [...resetIds],
    level,
    group,
    expiresAt,
    allowed: quotaBytes > 0 && !exceeded,
    positionKey,
    position,
    updatedAt,
  };
};

const stringsOf = (value: JsonValue | undefined): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/**
 * The user's state in a traffic document; a version-4 document (followed until its generation's
 * rebuild switches over) keeps it under `state`. Fields a document lacks (written before levels
 * existed) are the initial state's.
 */
export const trafficStateOf = (document: JsonObject): TrafficUserState => {
  const nested = document['state'];
  const source =
    typeof nested === 'object' && nested !== null && !Array.isArray(nested) ? nested : document;
  const number = (field: string, fallback: number): number => {
    const value = source[field];
    return typeof value === 'number' ? value : fallback;
  };
  const initial = initialTrafficUserState;
  const expiresAt = source['expiresAt'];
  const group = source['group'];
  return {
    quotaBytes: number('quotaBytes', initial.quotaBytes),
    uploadBytes: number('uploadBytes', initial.uploadBytes),
    downloadBytes: number('downloadBytes', initial.downloadBytes),
    exceeded: source['exceeded'] === true,
    grantIds: stringsOf(source['grantIds']),
    resetIds: stringsOf(source['resetIds']),
    level: number('level', initial.level),
    group: typeof group === 'string' ? group : initial.group,
    expiresAt: typeof expiresAt === 'string' ? expiresAt : null,
  };
};

/** What the API shows of a user's traffic document (GET /v1/traffic/users, /v1/node/users). */
export const trafficViewOf = (document: JsonObject): JsonObject => {
  const stored = document['view'];
  // A version-4 document carries its view.
  if (typeof stored === 'object' && stored !== null && !Array.isArray(stored)) return stored;
  const userId = typeof document['userId'] === 'string' ? document['userId'] : '';
  const state = trafficStateOf(document);
  const planActive = state.quotaBytes > 0;
  return asJson({
    ...trafficView(userId, state),
    planActive,
    allowed: planActive && !state.exceeded,
    position: document['position'] ?? null,
    updatedAt: document['updatedAt'] ?? null,
  });
};

type FoldedDay = { storedKey: string | null; view: NodeTrafficDay; last: string };

/** Each reporting node's day, folded over the unit's reports and put once per unit. */
const foldNodeDays = async (
  events: readonly BatchEvent[],
  context: ProjectionContext,
  days: Map<string, FoldedDay>,
): Promise<void> => {
  const reports = events.flatMap(({ domainEvent, positionKey }) =>
    domainEvent.type === 'UsageReported' && domainEvent.data.usages.length > 0
      ? [{ data: domainEvent.data, positionKey, id: nodeDayOf(domainEvent.data) }]
      : [],
  );
  if (reports.length === 0) return;
  const missing = [...new Set(reports.map(({ id }) => id))].filter((id) => !days.has(id));
  const stored = missing.length === 0 ? null : await context.getMany(NODE_TRAFFIC, missing);
  for (const { data, positionKey, id } of reports) {
    let day = days.get(id);
    if (day === undefined) {
      const document = stored?.get(id);
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
};

const nodeDayOf = (report: { nodeId: string; recordedAt: string }): string =>
  `${report.nodeId}:${report.recordedAt.slice(0, 10)}`;

/**
 * The traffic read models' memory for one runner unit: the users and node days it changed,
 * folded across its batches and put once each when the unit commits.
 */
const openTrafficUnit = (): ProjectionUnit => {
  const users = new Map<string, FoldedUser>();
  const days = new Map<string, FoldedDay>();
  return {
    applyBatch: async (events, context) => {
      const batchEvents: BatchEvent[] = [];
      for (const event of events) {
        if (streamIdOf(event.stream, trafficAggregate.category) === null) continue;
        const domainEvent = parseStored(trafficAggregate, event);
        const positionKey = positionKeyOf(event.position);
        putPurchase(domainEvent, context, positionKey);
        const position = event.position.toString();
        const updatedAt = event.metadata.occurredAt;
        batchEvents.push({ domainEvent, positionKey, position, updatedAt });
      }
      if (batchEvents.length === 0) return;
      await foldNodeDays(batchEvents, context, days);
      await foldUsers(batchEvents, context, users);
    },
    flush: (context) => {
      // Last null: every change was already in the stored document.
      for (const [userId, { state, last }] of users)
        if (last !== null) context.put(TRAFFIC, userId, trafficDocumentOf(userId, state, last));
      for (const [id, { view, last }] of days) {
        if (last === '') continue;
        const { nodeId, day } = view;
        context.put(NODE_TRAFFIC, id, { view: asJson(view), positionKey: last, nodeId, day });
      }
    },
    heldDocumentCount: () => users.size + days.size,
  };
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
  // Users change with every report: their documents may wait for the unit's commit.
  commitDeferrable: true,
  openUnit: openTrafficUnit,
};
