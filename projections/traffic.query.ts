import type { FieldValue, KeysetQuery } from '../domain/ports/read-model-store.port';

/**
 * The node user list's query: the users a node may serve (allowed: an active plan with quota
 * left), by user id, optionally of one level, one group, and with a plan running at least until
 * an instant. Each filter combination walks an index of the traffic collection ((allowed,
 * userId), (allowed, level, userId), (allowed, group, userId)); the expiry is checked on the
 * rows the walk reads, so a page costs its own rows plus the users it passes over, never the
 * whole collection.
 */
export type NodeUsersFilter = {
  level: number | null;
  group: string | null;
  /** ISO-8601 (UTC, milliseconds, as documents store it): plans that run out before are left out. */
  expiresFrom: string | null;
};

export const nodeUsersWhere = (filter: NodeUsersFilter): Record<string, FieldValue> => ({
  allowed: true,
  ...(filter.level === null ? {} : { level: filter.level }),
  ...(filter.group === null ? {} : { group: filter.group }),
});

export const nodeUsersRange = (filter: NodeUsersFilter): KeysetQuery['range'] =>
  filter.expiresFrom === null ? null : { field: 'expiresAt', from: filter.expiresFrom, to: null };

/** The page after the user `afterUserId` (null: the first page), userIds ascending. */
export const nodeUsersKeysetQuery = (
  filter: NodeUsersFilter,
  afterUserId: string | null,
  limit: number,
): KeysetQuery => ({
  where: nodeUsersWhere(filter),
  range: nodeUsersRange(filter),
  orderBy: { field: 'userId', direction: 'asc' },
  after: afterUserId === null ? null : { value: afterUserId, id: afterUserId },
  limit,
});

/** The cursor of the next page: the last user of a full page, else null (the list ends here). */
export const nextAfterUserIdOf = (
  items: readonly { userId?: unknown }[],
  pageSize: number,
): string | null => {
  const last = items[items.length - 1];
  return items.length === pageSize && typeof last?.userId === 'string' ? last.userId : null;
};
