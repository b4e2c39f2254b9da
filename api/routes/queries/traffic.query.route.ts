import type { JSONSchemaType } from 'ajv';
import {
  NODE_TRAFFIC,
  PURCHASES,
  TRAFFIC,
  trafficViewOf,
} from '../../../projections/traffic.projection';
import { sendError } from '../../envelope';
import { clientOf } from '../../middleware/api-state';
import { sendOk } from '../../envelope';
import { requireScope } from '../../middleware/require-scope';
import { validateParams, validateQuery } from '../../middleware/validate';
import { idSchema } from '../../schemas/common.schema';
import type { RouteKit, RouteRegistrar } from '../../route-kit';
import { USER_LEVEL_MAX } from '../../../domain/node/node.model';
import { collectionIn } from '../../../projections/read-models';
import {
  nextAfterUserIdOf,
  nodeUsersKeysetQuery,
  nodeUsersRange,
  nodeUsersWhere,
  type NodeUsersFilter,
} from '../../../projections/traffic.query';
import {
  commonQueryProperties,
  findPage,
  instantFilterSchema,
  normalInstant,
  pageWindowOf,
  prepareQuery,
  type CommonQuery,
  type QueryDeps,
} from './query-kit';

/** Traffic usage vs quota per user, and the node user list (active plan, quota not exceeded). */
type TrafficQuery = CommonQuery & { exceeded?: boolean; allowed?: boolean };

const trafficSchema: JSONSchemaType<TrafficQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...commonQueryProperties,
    exceeded: { type: 'boolean', nullable: true },
    allowed: { type: 'boolean', nullable: true },
  },
};
const plainQuerySchema: JSONSchemaType<CommonQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: commonQueryProperties,
};

/**
 * The node user list: page_num pages (with total_count), or keyset pages (after_user_id, the
 * previous page's next_after_user_id: no count, the same cost at any depth, for walking the list).
 */
type NodeUsersQuery = CommonQuery & {
  level?: number;
  group?: string;
  expires_from?: string;
  after_user_id?: string;
};
const nodeUsersSchema: JSONSchemaType<NodeUsersQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...commonQueryProperties,
    level: { type: 'integer', minimum: 0, maximum: USER_LEVEL_MAX, nullable: true },
    group: { ...idSchema, nullable: true },
    expires_from: instantFilterSchema,
    after_user_id: { ...idSchema, nullable: true },
  },
};

const userParamsSchema: JSONSchemaType<{ userId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['userId'],
  properties: { userId: idSchema },
};

const DAY_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
type NodeDaysQuery = CommonQuery & { from?: string; to?: string };
const nodeDaysSchema: JSONSchemaType<NodeDaysQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...commonQueryProperties,
    from: { type: 'string', pattern: DAY_PATTERN, nullable: true },
    to: { type: 'string', pattern: DAY_PATTERN, nullable: true },
  },
};
const nodeParamsSchema: JSONSchemaType<{ nodeId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['nodeId'],
  properties: { nodeId: idSchema },
};

export const trafficQueryRoutes =
  (deps: QueryDeps): RouteRegistrar =>
  (kit: RouteKit) => {
    const readers = requireScope('traffic:read');
    const traffic = validateQuery(trafficSchema);
    const nodeUsers = validateQuery(nodeUsersSchema);
    const plainQuery = validateQuery(plainQuerySchema);
    const userParams = validateParams(userParamsSchema);
    const nodeDays = validateQuery(nodeDaysSchema);
    const nodeParams = validateParams(nodeParamsSchema);

    /** A reporting node's bytes per UTC day, from ≤ day < to, oldest first; a node sees its own. */
    kit.router.get('/traffic/nodes/:nodeId/days', readers, nodeParams, nodeDays, async (ctx) => {
      const { nodeId } = nodeParams.read(ctx);
      const client = clientOf(ctx);
      if (client.role === 'node' && client.clientId !== nodeId)
        return sendError(ctx, 'forbidden', { msg: 'a node reads only its own traffic' });
      const query = nodeDays.read(ctx);
      const generation = await prepareQuery(deps, ctx, query);
      if (generation === null) return;
      const { from = null, to = null } = query;
      sendOk(
        ctx,
        await findPage(deps, generation, NODE_TRAFFIC, query, {
          where: { nodeId },
          range: from === null && to === null ? null : { field: 'day', from, to },
          orderBy: { field: 'day', direction: 'asc' },
        }),
      );
    });

    kit.router.get('/traffic/users', readers, traffic, async (ctx) => {
      const query = traffic.read(ctx);
      const generation = await prepareQuery(deps, ctx, query);
      if (generation === null) return;
      const where = { exceeded: query.exceeded, allowed: query.allowed };
      sendOk(
        ctx,
        await findPage(
          deps,
          generation,
          TRAFFIC,
          query,
          { where, range: null, orderBy: { field: 'userId', direction: 'asc' } },
          trafficViewOf,
        ),
      );
    });

    kit.router.get('/node/users', readers, nodeUsers, async (ctx) => {
      const query = nodeUsers.read(ctx);
      if (query.after_user_id !== undefined && query.page_num !== undefined)
        return sendError(ctx, 'invalid_request', {
          msg: 'after_user_id and page_num are two ways to page: give one of them',
          data: { after_user_id: query.after_user_id, page_num: query.page_num },
        });
      const generation = await prepareQuery(deps, ctx, query);
      if (generation === null) return;
      const filter: NodeUsersFilter = {
        level: query.level ?? null,
        group: query.group ?? null,
        expiresFrom: normalInstant(query.expires_from),
      };
      const { limit } = pageWindowOf(query);
      if (query.after_user_id === undefined) {
        const page = await findPage(
          deps,
          generation,
          TRAFFIC,
          query,
          {
            where: nodeUsersWhere(filter),
            range: nodeUsersRange(filter),
            orderBy: { field: 'userId', direction: 'asc' },
          },
          trafficViewOf,
        );
        return sendOk(ctx, { ...page, next_after_user_id: nextAfterUserIdOf(page.items, limit) });
      }
      const documents = await deps.readSide.store.findAfter(
        collectionIn(TRAFFIC, generation),
        nodeUsersKeysetQuery(filter, query.after_user_id, limit),
      );
      const items = documents.map(trafficViewOf);
      sendOk(ctx, {
        items,
        page_size: limit,
        next_after_user_id: nextAfterUserIdOf(items, limit),
        generation,
        position: deps.readSide.appliedPosition()?.toString() ?? null,
      });
    });

    /** A user's plan purchases, newest first (the seed's GET /user/bought). */
    kit.router.get(
      '/users/:userId/purchases',
      requireScope('users:read'),
      userParams,
      plainQuery,
      async (ctx) => {
        const { userId } = userParams.read(ctx);
        const query = plainQuery.read(ctx);
        const generation = await prepareQuery(deps, ctx, query);
        if (generation === null) return;
        sendOk(
          ctx,
          await findPage(deps, generation, PURCHASES, query, {
            where: { userId },
            range: null,
            orderBy: { field: 'purchasedAt', direction: 'desc' },
          }),
        );
      },
    );
  };
