import type { JSONSchemaType } from 'ajv';
import {
  NODE_REGISTRY_ID,
  nodeRegistryAggregate,
  USER_LEVEL_MAX,
  type NodeCommand,
  type NodeConfig,
} from '../../domain/node/node.decider';
import { DEFAULT_USER_GROUP } from '../../domain/traffic/traffic.model';
import { commandContext } from '../command-context';
import { sendError, sendOk } from '../envelope';
import { clientOf, type RouteMiddleware } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams, validateQuery } from '../middleware/validate';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import {
  descriptionSchema,
  idSchema,
  pageNumSchema,
  pageSizeSchema,
} from '../schemas/common.schema';
import { positionJson } from './ledger-services';
import {
  forgetRegistryRead,
  nodeRegistryOf,
  nodeView,
  visibleNode,
  type NodeServices,
} from './node-services';
import { sendRejection } from './rejection';

const levelSchema = { type: 'integer', minimum: 0, maximum: USER_LEVEL_MAX } as const;
const textSchema = { ...descriptionSchema, maxLength: 200 } as const;
type NodeBody = Partial<NodeConfig>;
const configProperties = {
  name: { ...textSchema, minLength: 1, nullable: true },
  group: { ...idSchema, nullable: true },
  levelMin: { ...levelSchema, nullable: true },
  address: { ...textSchema, nullable: true },
  region: { ...textSchema, nullable: true },
  clientId: { ...idSchema, nullable: true },
} as const;
type RegisterBody = Omit<NodeBody, 'name' | 'clientId'> & {
  nodeId: string;
  name: string;
  clientId: string;
};
const registerSchema: JSONSchemaType<RegisterBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['nodeId', 'name', 'clientId'],
  properties: {
    ...configProperties,
    nodeId: idSchema,
    name: { ...textSchema, minLength: 1 },
    clientId: idSchema,
  },
};
const updateSchema: JSONSchemaType<NodeBody> = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: configProperties,
};
const paramsSchema: JSONSchemaType<{ nodeId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['nodeId'],
  properties: { nodeId: idSchema },
};
type ListQuery = { page_num?: number; page_size?: number; retired?: boolean };
const listSchema: JSONSchemaType<ListQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    page_num: { ...pageNumSchema, nullable: true },
    page_size: { ...pageSizeSchema, nullable: true },
    retired: { type: 'boolean', nullable: true },
  },
};
const PAGE_SIZE_DEFAULT = 20;

type Ctx = Parameters<RouteMiddleware>[0];

/** Runs one registry command and answers with the node, or the rejection. */
const runNodeCommand = async (
  ctx: Ctx,
  services: NodeServices,
  command: NodeCommand,
  status: 200 | 201,
): Promise<void> => {
  const { nodeId } = command.data;
  const context = commandContext(ctx, services.nowMs());
  const outcome = await services.runtime.execute(
    nodeRegistryAggregate,
    NODE_REGISTRY_ID,
    command,
    context,
  );
  forgetRegistryRead(services);
  if (!outcome.ok) return sendRejection(ctx, outcome.rejection, outcome.detail, { nodeId });
  const node = outcome.state.nodes.get(nodeId);
  if (node === undefined) return sendError(ctx, 'node_not_found', { data: { nodeId } });
  if (node.retiredAt !== null) await services.presence.forget(nodeId);
  const view = nodeView(node, await services.presence.view(nodeId));
  sendOk(ctx, { node: view, position: positionJson(outcome.position) }, status);
};

/** 422 unless clientId is an unrevoked client with the node role. */
const isNodeClient = async (kit: RouteKit, clientId: string): Promise<boolean> => {
  const client = await kit.clientStore.findById(clientId);
  return client !== null && client.role === 'node' && client.revokedAt === null;
};

/** Registry routes: register, update, retire, list and read nodes (see docs/api.md). */
export const nodeRoutes =
  (services: NodeServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const register = validateBody(registerSchema);
    const update = validateBody(updateSchema);
    const params = validateParams(paramsSchema);
    const list = validateQuery(listSchema);
    const admins = requireScope('nodes:write');

    kit.router.post('/nodes', admins, kit.jsonBody(), register, kit.idempotency(), async (ctx) => {
      const body = register.read(ctx);
      const config: NodeConfig = {
        name: body.name,
        group: body.group ?? DEFAULT_USER_GROUP,
        levelMin: body.levelMin ?? 0,
        address: body.address ?? '',
        region: body.region ?? '',
        clientId: body.clientId,
      };
      if (!(await isNodeClient(kit, config.clientId)))
        return sendError(ctx, 'node_client_invalid', { data: { clientId: config.clientId } });
      const now = commandContext(ctx, services.nowMs()).now;
      const command = {
        type: 'RegisterNode' as const,
        data: { nodeId: body.nodeId, config, now },
      };
      await runNodeCommand(ctx, services, command, 201);
    });

    kit.router.patch('/nodes/:nodeId', admins, params, kit.jsonBody(), update, async (ctx) => {
      const { nodeId } = params.read(ctx);
      const node = (await nodeRegistryOf(services)).state.nodes.get(nodeId);
      if (node === undefined) return sendError(ctx, 'node_not_found', { data: { nodeId } });
      const patch = Object.fromEntries(
        Object.entries(update.read(ctx)).filter(([, value]) => value !== undefined),
      );
      const { name, group, levelMin, address, region, clientId } = { ...node, ...patch };
      const config = { name, group, levelMin, address, region, clientId };
      if (clientId !== node.clientId && !(await isNodeClient(kit, clientId)))
        return sendError(ctx, 'node_client_invalid', { data: { clientId } });
      const now = commandContext(ctx, services.nowMs()).now;
      await runNodeCommand(
        ctx,
        services,
        { type: 'UpdateNode', data: { nodeId, config, now } },
        200,
      );
    });

    kit.router.delete('/nodes/:nodeId', admins, params, async (ctx) => {
      const { nodeId } = params.read(ctx);
      const now = commandContext(ctx, services.nowMs()).now;
      await runNodeCommand(ctx, services, { type: 'RetireNode', data: { nodeId, now } }, 200);
    });

    kit.router.get('/nodes', requireScope('nodes:list'), list, async (ctx) => {
      const query = list.read(ctx);
      const registry = await nodeRegistryOf(services);
      const nodes = [...registry.state.nodes.values()]
        .filter((node) => (query.retired ?? false) === (node.retiredAt !== null))
        .sort((left, right) => (left.nodeId < right.nodeId ? -1 : 1));
      const pageSize = query.page_size ?? PAGE_SIZE_DEFAULT;
      const pageNum = query.page_num ?? 1;
      const items = await Promise.all(
        nodes
          .slice((pageNum - 1) * pageSize, pageNum * pageSize)
          .map(async (node) => nodeView(node, await services.presence.view(node.nodeId))),
      );
      sendOk(ctx, {
        items,
        page_num: pageNum,
        page_size: pageSize,
        total_count: nodes.length,
        total_page: Math.ceil(nodes.length / pageSize),
        position: positionJson(registry.position),
      });
    });

    kit.router.get('/nodes/:nodeId', requireScope('nodes:read'), params, async (ctx) => {
      const { nodeId } = params.read(ctx);
      const registry = await nodeRegistryOf(services);
      const node = visibleNode(registry.state.nodes, nodeId, clientOf(ctx));
      if (node === null) return sendError(ctx, 'node_not_found', { data: { nodeId } });
      const view = nodeView(node, await services.presence.view(nodeId));
      sendOk(ctx, { node: view, position: positionJson(registry.position) });
    });

    /** The seed's GET /node/info: the calling node's own configuration. */
    kit.router.get('/node/info', requireScope('node:self'), async (ctx) => {
      const { clientId } = clientOf(ctx);
      const registry = await nodeRegistryOf(services);
      const node = registry.state.nodes.find(
        (candidate) => candidate.clientId === clientId && candidate.retiredAt === null,
      );
      if (node === undefined) return sendError(ctx, 'node_not_found', { data: { clientId } });
      const view = nodeView(node, await services.presence.view(node.nodeId));
      sendOk(ctx, { node: view, position: positionJson(registry.position) });
    });
  };
