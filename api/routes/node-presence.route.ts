import type { JSONSchemaType } from 'ajv';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams, validateQuery } from '../middleware/validate';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { instantSchema, idSchema, pageNumSchema, pageSizeSchema } from '../schemas/common.schema';
import { nodeRegistryOf, visibleNode, type NodeServices } from './node-services';
import { createServedUsers } from './node-users';

/** A node serves at most this many users at once: far above any real node. */
const ONLINE_USER_COUNT_MAX = 1_000_000;
const VERSION_CHARS_MAX = 64;
const PAGE_SIZE_DEFAULT = 100;
/** The node list is pulled often, and whole: larger pages than other lists. */
const NODE_USERS_PAGE_SIZE_MAX = 10_000;

type HeartbeatBody = { onlineUserCount: number; loadPercent?: number; version?: string };
const heartbeatSchema: JSONSchemaType<HeartbeatBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['onlineUserCount'],
  properties: {
    onlineUserCount: { type: 'integer', minimum: 0, maximum: ONLINE_USER_COUNT_MAX },
    loadPercent: { type: 'number', minimum: 0, maximum: 100, nullable: true },
    version: { type: 'string', maxLength: VERSION_CHARS_MAX, nullable: true },
  },
};
const paramsSchema: JSONSchemaType<{ nodeId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['nodeId'],
  properties: { nodeId: idSchema },
};
type UsersQuery = { page_num?: number; page_size?: number; at?: string };
const usersSchema: JSONSchemaType<UsersQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    page_num: { ...pageNumSchema, nullable: true },
    page_size: { ...pageSizeSchema, maximum: NODE_USERS_PAGE_SIZE_MAX, nullable: true },
    at: { ...instantSchema, nullable: true },
  },
};

/** POST /v1/nodes/{nodeId}/heartbeats and GET /v1/nodes/{nodeId}/users. */
export const nodePresenceRoutes =
  (services: NodeServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const heartbeat = validateBody(heartbeatSchema);
    const params = validateParams(paramsSchema);
    const users = validateQuery(usersSchema);
    const servedUsers = createServedUsers(services.traffic);

    /**
     * No Idempotency-Key: a heartbeat states the node's current state, so a repeat is harmless,
     * and it is written only to the presence store (memory or the NATS bucket), never the log.
     */
    kit.router.post(
      '/nodes/:nodeId/heartbeats',
      requireScope('node:self'),
      params,
      kit.jsonBody(),
      heartbeat,
      async (ctx) => {
        const { nodeId } = params.read(ctx);
        const { onlineUserCount, loadPercent = 0, version = '' } = heartbeat.read(ctx);
        const registry = await nodeRegistryOf(services);
        const node = visibleNode(registry.state.nodes, nodeId, clientOf(ctx));
        if (node === null) return sendError(ctx, 'node_not_found', { data: { nodeId } });
        if (node.retiredAt !== null) return sendError(ctx, 'node_retired', { data: { nodeId } });
        const presence = await services.presence.heartbeat(nodeId, {
          onlineUserCount,
          loadPercent,
          version,
        });
        sendOk(ctx, { nodeId, ...presence });
      },
    );

    kit.router.get(
      '/nodes/:nodeId/users',
      requireScope('nodes:read'),
      params,
      users,
      async (ctx) => {
        const { nodeId } = params.read(ctx);
        const query = users.read(ctx);
        const registry = await nodeRegistryOf(services);
        const node = visibleNode(registry.state.nodes, nodeId, clientOf(ctx));
        if (node === null) return sendError(ctx, 'node_not_found', { data: { nodeId } });
        if (node.retiredAt !== null) return sendError(ctx, 'node_retired', { data: { nodeId } });
        const atMs = query.at === undefined ? services.nowMs() : Date.parse(query.at);
        const pageSize = query.page_size ?? PAGE_SIZE_DEFAULT;
        const pageNum = query.page_num ?? 1;
        const { items, totalCount } = await servedUsers(node, atMs, pageNum, pageSize);
        sendOk(ctx, {
          nodeId,
          at: new Date(atMs).toISOString(),
          items,
          page_num: pageNum,
          page_size: pageSize,
          total_count: totalCount,
          total_page: Math.ceil(totalCount / pageSize),
        });
      },
    );
  };
