import type { JsonObject, JsonValue } from '../domain/ports/event-store.port';
import type { CollectionSpec } from '../domain/ports/read-model-store.port';
import {
  initialTrafficUserState,
  usedBytesOf,
  type TrafficEvent,
  type TrafficUserState,
} from '../domain/traffic/traffic.model';
import {
  asJson,
  positionKeyOf,
  streamIdOf,
  type Projection,
  type ProjectionContext,
  type ProjectionUnit,
} from './projection';
import { createTrafficUsers, type EventMark, type TrafficUsers } from './traffic-users';
import { readTrafficEvent, type ReadTrafficEvent } from './traffic-usage-text';

/**
 * traffic: one document per user with usage against quota, folded from the shard streams.
 * `allowed` is what nodes ask for (the node user list): a user with an active plan (a quota above
 * zero) that is not exceeded.
 */
export const TRAFFIC = 'traffic';

/** purchases: one document per plan purchase (a grant with a subscription), by user and time. */
export const PURCHASES = 'purchases';

/**
 * node_traffic: bytes up and down per reporting node client per UTC day (of the report's
 * recordedAt), summed over its reports' counted usages. 2^53 bytes is 9 PB per node and day.
 */
export const NODE_TRAFFIC = 'node_traffic';

/** The traffic shards' stream category (`trafficshard-<nn>`, the stored format). */
const TRAFFIC_SHARD_CATEGORY = 'trafficshard';

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

/**
 * An event of the batch as the fold needs it: read once (a report's usages as columns), with its
 * position made once.
 */
type BatchEvent = ReadTrafficEvent & {
  positionKey: string;
  position: string;
  updatedAt: string;
};

const storedKeyOf = (document: JsonObject | undefined): string | null =>
  typeof document?.['positionKey'] === 'string' ? document['positionKey'] : null;

/**
 * The position a user's document includes, as a key: a lean document (below) keeps only its
 * `position`; one written before keeps `positionKey` too.
 */
const userStoredKeyOf = (document: JsonObject): string | null => {
  const { position } = document;
  return (
    storedKeyOf(document) ??
    (typeof position === 'string' && /^[0-9]+$/.test(position)
      ? positionKeyOf(BigInt(position))
      : null)
  );
};

/**
 * True when the stored document's indexed fields are those its state's document would have: a
 * lean document's are; an older form's (a version-4 document, one written before levels) may not
 * be, and its next write rewrites the indexes.
 */
const indexedFieldsCurrent = (
  userId: string,
  state: TrafficUserState,
  document: JsonObject,
): boolean =>
  document['userId'] === userId &&
  document['allowed'] === (state.quotaBytes > 0 && !state.exceeded) &&
  document['exceeded'] === state.exceeded &&
  document['level'] === state.level &&
  document['group'] === state.group;

/**
 * Folds every user the batch changes into the unit's users, in log order: each record's user is
 * looked up once (a slot, made on first sight); users new to the unit are read once, all together
 * (from the cache, else one store round), before anything is folded into them. No document is
 * built here: `flush` puts each changed user once per unit however many events and batches
 * changed it. A report's usages are folded in one loop of two checked sums each.
 */
const foldUsers = async (
  events: readonly BatchEvent[],
  context: ProjectionContext,
  users: TrafficUsers,
): Promise<void> => {
  const slotsOf = events.map(({ domainEvent, usages }): Int32Array | number => {
    if (usages !== null) {
      const { userIds, userHashes } = usages;
      const slots = new Int32Array(userIds.length);
      for (let index = 0; index < userIds.length; index += 1)
        slots[index] = users.slotForHashed(userIds[index] ?? '', userHashes[index] ?? 0);
      return slots;
    }
    switch (domainEvent.type) {
      case 'UsageReported':
        return new Int32Array(0);
      case 'QuotasExceeded':
        return Int32Array.from(domainEvent.data.users, ({ userId }) => users.slotFor(userId));
      default:
        return users.slotFor(domainEvent.data.userId);
    }
  });
  const unloaded = users.takeUnloaded();
  if (unloaded.length > 0) {
    const stored = await context.getMany(
      TRAFFIC,
      unloaded.map(({ userId }) => userId),
    );
    for (const { slot, userId } of unloaded) {
      const document = stored.get(userId);
      if (document === undefined) continue;
      const state = trafficStateOf(document);
      users.load(slot, {
        state,
        positionKey: userStoredKeyOf(document),
        indexedFieldsCurrent: indexedFieldsCurrent(userId, state, document),
      });
    }
  }
  events.forEach(({ domainEvent, usages, positionKey, position, updatedAt }, index) => {
    const mark = users.mark({ positionKey, position, updatedAt });
    const slots = slotsOf[index] ?? -1;
    if (typeof slots === 'number') {
      if (users.includes(slots, positionKey)) return;
      if (domainEvent.type === 'QuotaGranted') users.grant(slots, domainEvent.data, mark);
      else if (domainEvent.type === 'QuotaReset') users.reset(slots, domainEvent.data, mark);
      else if (domainEvent.type === 'UserImported') users.import(slots, domainEvent.data, mark);
      return;
    }
    if (usages !== null) {
      const { uploadBytes, downloadBytes } = usages;
      for (let record = 0; record < slots.length; record += 1) {
        const slot = slots[record] ?? -1;
        if (!users.includes(slot, positionKey))
          users.addUsage(slot, uploadBytes[record] ?? 0, downloadBytes[record] ?? 0, mark);
      }
    } else if (domainEvent.type === 'QuotasExceeded') {
      domainEvent.data.users.forEach((crossing, record) => {
        const slot = slots[record] ?? -1;
        if (!users.includes(slot, positionKey)) users.cross(slot, crossing, mark);
      });
    }
  });
};

/**
 * A user's traffic document, flat and lean: the user's state (what the next unit folds on), the
 * position and time of the last event folded in, and `allowed` (an active plan and quota left).
 * The state's exceeded, level, group and expiresAt, with userId and allowed, are the indexed
 * fields (the lists and the node user list's filters). Empty grant and reset lists and a null
 * expiry are left out (read back as such), and so is the position's key (made from `position`
 * when read): about a quarter of the bytes every write encodes and stores. The view the API shows
 * is made from it when read (`trafficViewOf`).
 */
export const trafficDocumentOf = (
  userId: string,
  state: TrafficUserState,
  last: Omit<EventMark, 'positionKey'>,
): JsonObject => {
  const { position, updatedAt } = last;
  const { quotaBytes, uploadBytes, downloadBytes, exceeded, grantIds, resetIds } = state;
  const { level, group, expiresAt } = state;
  const document: JsonObject = {
    userId,
    quotaBytes,
    uploadBytes,
    downloadBytes,
    exceeded,
    level,
    group,
    allowed: quotaBytes > 0 && !exceeded,
    position,
    updatedAt,
  };
  // Read-only arrays (the fold replaces them, never changes them): shared, not copied.
  if (grantIds.length > 0) document['grantIds'] = grantIds as string[];
  if (resetIds.length > 0) document['resetIds'] = resetIds as string[];
  if (expiresAt !== null) document['expiresAt'] = expiresAt;
  return document;
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

/**
 * What the API shows of a user's traffic document (GET /v1/traffic/users, /v1/node/users): the
 * same fields as the shard's own view of the user, plus the plan and the position.
 */
export const trafficViewOf = (document: JsonObject): JsonObject => {
  const stored = document['view'];
  // A version-4 document carries its view.
  if (typeof stored === 'object' && stored !== null && !Array.isArray(stored)) return stored;
  const userId = typeof document['userId'] === 'string' ? document['userId'] : '';
  const state = trafficStateOf(document);
  const { quotaBytes, uploadBytes, downloadBytes, exceeded, level, group, expiresAt } = state;
  const usedBytes = usedBytesOf(state);
  const planActive = quotaBytes > 0;
  return asJson({
    userId,
    quotaBytes,
    uploadBytes,
    downloadBytes,
    usedBytes,
    // Never negative: usage past the quota shows as 0 remaining, with exceeded true.
    remainingBytes: Math.max(0, quotaBytes - usedBytes),
    exceeded,
    level,
    group,
    expiresAt,
    planActive,
    allowed: planActive && !exceeded,
    position: document['position'] ?? null,
    updatedAt: document['updatedAt'] ?? null,
  });
};

type FoldedDay = { storedKey: string | null; view: NodeTrafficDay; last: string };

const nodeDayOf = (report: { nodeId: string; recordedAt: string }): string =>
  `${report.nodeId}:${report.recordedAt.slice(0, 10)}`;

/** Each reporting node's day, folded over the unit's reports and put once per unit. */
const foldNodeDays = async (
  events: readonly BatchEvent[],
  context: ProjectionContext,
  days: Map<string, FoldedDay>,
): Promise<void> => {
  const missing = new Set<string>();
  for (const { domainEvent, usages } of events) {
    if (domainEvent.type !== 'UsageReported' || (usages?.userIds.length ?? 0) === 0) continue;
    const id = nodeDayOf(domainEvent.data);
    if (!days.has(id)) missing.add(id);
  }
  const stored = missing.size === 0 ? null : await context.getMany(NODE_TRAFFIC, [...missing]);
  for (const { domainEvent, usages, positionKey } of events) {
    if (domainEvent.type !== 'UsageReported' || usages === null || usages.userIds.length === 0)
      continue;
    const { data } = domainEvent;
    const id = nodeDayOf(data);
    let day = days.get(id);
    if (day === undefined) {
      const document = stored?.get(id);
      const view = document?.['view'] as NodeTrafficDay | undefined;
      // A copy: the unit adds to it in place, and the stored one may be the cache's.
      day = {
        storedKey: storedKeyOf(document),
        view: {
          nodeId: data.nodeId,
          day: data.recordedAt.slice(0, 10),
          uploadBytes: view?.uploadBytes ?? 0,
          downloadBytes: view?.downloadBytes ?? 0,
          userRecordCount: view?.userRecordCount ?? 0,
        },
        last: '',
      };
      days.set(id, day);
    }
    if (day.storedKey !== null && day.storedKey >= positionKey) continue;
    let { uploadBytes, downloadBytes } = day.view;
    for (let record = 0; record < usages.userIds.length; record += 1) {
      uploadBytes += usages.uploadBytes[record] ?? 0;
      downloadBytes += usages.downloadBytes[record] ?? 0;
    }
    day.view.uploadBytes = uploadBytes;
    day.view.downloadBytes = downloadBytes;
    day.view.userRecordCount += usages.userIds.length;
    day.last = positionKey;
  }
};

/**
 * Users a runner keeps folded in memory from one unit to the next (about 150 bytes each: five
 * numbers in typed arrays, the id, a map entry): the next unit folds on them without reading
 * their documents back. Past this many the memory is dropped after the commit and the next unit
 * reads its users again (the runner's cache, else the store), so memory stays bounded with
 * 1,000,000 users.
 */
const RETAINED_USER_COUNT_MAX = 250_000;

/** The users each traffic unit folded, for the runner's next unit to carry over. */
const unitUsers = new WeakMap<ProjectionUnit, TrafficUsers>();

/** The last unit's users, committed: kept, unless too many to keep. */
const carriedUsers = (
  previous: ProjectionUnit | null,
  retainedUserCountMax: number,
): TrafficUsers | null => {
  const users = previous === null ? undefined : unitUsers.get(previous);
  if (users === undefined || users.size() > retainedUserCountMax) return null;
  users.settle();
  return users;
};

/**
 * The traffic read models' memory for one runner unit: the users and node days it changed,
 * folded across its batches and put once each when the unit commits. The users carry over to the
 * runner's next unit (the last one committed them), up to RETAINED_USER_COUNT_MAX.
 */
const openTrafficUnit = (
  previous: ProjectionUnit | null,
  retainedUserCountMax: number,
): ProjectionUnit => {
  const users = carriedUsers(previous, retainedUserCountMax) ?? createTrafficUsers();
  const days = new Map<string, FoldedDay>();
  const unit: ProjectionUnit = {
    applyBatch: async (events, context) => {
      const batchEvents: BatchEvent[] = [];
      for (const event of events) {
        if (streamIdOf(event.stream, TRAFFIC_SHARD_CATEGORY) === null) continue;
        const read = readTrafficEvent(event);
        const positionKey = positionKeyOf(event.position);
        putPurchase(read.domainEvent, context, positionKey);
        const position = event.position.toString();
        const updatedAt = event.metadata.occurredAt;
        batchEvents.push({ ...read, positionKey, position, updatedAt });
      }
      if (batchEvents.length === 0) return;
      await foldNodeDays(batchEvents, context, days);
      await foldUsers(batchEvents, context, users);
    },
    flush: (context) => {
      // By user id: a store keeping documents in sorted indexes writes them in order (SQLite:
      // new users' index entries land side by side instead of each in a random page).
      users.forEachChanged((userId, state, last, indexedFieldsKept) =>
        context.put(TRAFFIC, userId, trafficDocumentOf(userId, state, last), {
          indexedFieldsKept,
        }),
      );
      for (const [id, { view, last }] of days) {
        if (last === '') continue;
        const { nodeId, day } = view;
        context.put(NODE_TRAFFIC, id, {
          view: asJson({ ...view }),
          positionKey: last,
          nodeId,
          day,
        });
      }
    },
    // The documents it will write: users held unchanged (carried over) cost no write.
    heldDocumentCount: () => users.changedCount() + days.size,
  };
  unitUsers.set(unit, users);
  return unit;
};

/** A user's document's fields but its grant and reset lists (trafficDocumentOf). */
const TRAFFIC_COLUMNS: CollectionSpec['columns'] = {
  userId: 'string',
  quotaBytes: 'number',
  uploadBytes: 'number',
  downloadBytes: 'number',
  exceeded: 'boolean',
  level: 'number',
  group: 'string',
  allowed: 'boolean',
  position: 'string',
  updatedAt: 'string',
  expiresAt: 'string',
};

/** The traffic projection keeping up to `retainedUserCountMax` users between units (tests: 0). */
export const trafficProjectionWith = (retainedUserCountMax: number): Projection => ({
  name: 'traffic',
  collections: [
    {
      name: TRAFFIC,
      // Every scalar field of a user's document in its own column (a narrow table where the store
      // has them): a write binds a few numbers and strings, no JSON text; the grant and reset
      // lists, when not empty, are the only JSON left.
      columns: TRAFFIC_COLUMNS,
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
  // Users carry over from unit to unit in the projection's memory; node days are read each unit.
  keepsOwnDocuments: true,
  openUnit: (previous) => openTrafficUnit(previous, retainedUserCountMax),
});

export const trafficProjection: Projection = trafficProjectionWith(RETAINED_USER_COUNT_MAX);
