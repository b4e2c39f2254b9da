import type { NodeRecord } from '../../domain/node/node.model';
import {
  effectiveLevelOf,
  isSubscribed,
  TRAFFIC_SHARD_COUNT,
  trafficView,
  type TrafficShardView,
  type TrafficUserState,
} from '../../domain/traffic/traffic.decider';
import type { TrafficWriter } from '../../domain/traffic/traffic-writer';

/**
 * Whether the node may serve the user at nowMs: a plan running (not expired), its level at least
 * the node's minimum, the node's group, quota left. Expiry is computed here, at query time, so a
 * user leaves the list the instant its plan ends; nothing has to fire for it.
 */
const mayServe = (node: NodeRecord, user: TrafficUserState, nowMs: number): boolean =>
  isSubscribed(user, nowMs) &&
  effectiveLevelOf(user, nowMs) >= node.levelMin &&
  user.group === node.group &&
  user.quotaBytes > 0 &&
  !user.exceeded;

/** Only what a node needs to serve a user. */
const nodeUserView = (userId: string, user: TrafficUserState) => {
  const { quotaBytes, usedBytes, remainingBytes } = trafficView(userId, user);
  return {
    userId,
    level: user.level,
    expiresAt: user.expiresAt,
    quotaBytes,
    usedBytes,
    remainingBytes,
  };
};

type Served = {
  /** The shard's position when computed: the writer changes a shard in place, never its position alone. */
  position: bigint | null;
  computedAtMs: number;
  /** The first expiry among the served: from then on the list differs. */
  validUntilMs: number;
  users: readonly (readonly [string, TrafficUserState])[];
};

/** Cached lists kept at most: 16 shards × this many distinct (group, levelMin) pairs. */
const SERVED_LIST_COUNT_MAX = TRAFFIC_SHARD_COUNT * 256;

/**
 * A node's user list, cheap enough to pull many times a second: per shard and per (group,
 * levelMin), the served users sorted by id are kept until that shard's state changes (a
 * report, a grant: its position moves) or the first of them expires, whichever comes first; a page is a merge of
 * the 16 sorted lists. A query at an instant before the cached one computes afresh.
 */
export const createServedUsers = (traffic: Pick<TrafficWriter, 'shard'>) => {
  const cache = new Map<string, Served>();
  const servedIn = (
    shardId: string,
    shard: { state: TrafficShardView; position: bigint | null },
    node: NodeRecord,
    atMs: number,
  ) => {
    const { state, position } = shard;
    const key = `${shardId}|${node.group}|${node.levelMin}`;
    const hit = cache.get(key);
    if (
      hit !== undefined &&
      hit.position === position &&
      atMs >= hit.computedAtMs &&
      atMs < hit.validUntilMs
    )
      return hit.users;
    const users: (readonly [string, TrafficUserState])[] = [];
    let validUntilMs = Number.POSITIVE_INFINITY;
    for (const [userId, user] of state.users) {
      if (!mayServe(node, user, atMs)) continue;
      users.push([userId, { ...user }]); // A copy: the writer changes its users in place.
      validUntilMs = Math.min(validUntilMs, Date.parse(user.expiresAt ?? ''));
    }
    users.sort(([left], [right]) => (left < right ? -1 : 1));
    if (cache.size >= SERVED_LIST_COUNT_MAX) cache.clear();
    cache.set(key, { position, computedAtMs: atMs, validUntilMs, users });
    return users;
  };

  return async (node: NodeRecord, atMs: number, pageNum: number, pageSize: number) => {
    const lists: (readonly (readonly [string, TrafficUserState])[])[] = [];
    for (let shard = 0; shard < TRAFFIC_SHARD_COUNT; shard += 1) {
      const shardId = String(shard).padStart(2, '0');
      lists.push(servedIn(shardId, await traffic.shard(shardId), node, atMs));
    }
    const totalCount = lists.reduce((sum, list) => sum + list.length, 0);
    const start = (pageNum - 1) * pageSize;
    const end = Math.min(start + pageSize, totalCount);
    // A 16-way merge up to the page's end: ids are unique across shards.
    const cursors = lists.map(() => 0);
    const items: ReturnType<typeof nodeUserView>[] = [];
    for (let rank = 0; rank < end; rank += 1) {
      let best = -1;
      lists.forEach((list, index) => {
        const candidate = list[cursors[index] ?? 0];
        const current = best < 0 ? undefined : lists[best]?.[cursors[best] ?? 0];
        if (candidate !== undefined && (current === undefined || candidate[0] < current[0]))
          best = index;
      });
      const [userId, user] = lists[best]?.[cursors[best] ?? 0] ?? [];
      cursors[best] = (cursors[best] ?? 0) + 1;
      if (rank >= start && userId !== undefined && user !== undefined)
        items.push(nodeUserView(userId, user));
    }
    return { items, totalCount };
  };
};
