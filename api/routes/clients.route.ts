import type { JSONSchemaType } from 'ajv';
import { modes, type Mode } from '../../domain/mode/mode';
import { generateApiKey, hashApiKey } from '../../domain/ports/client-store.port';
import type { Client, ClientRole } from '../../domain/ports/client-store.port';
import type { RouteKit } from '../route-kit';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams } from '../middleware/validate';
import { clientRoleSchema, idSchema } from '../schemas/common.schema';
import { securityAuditOf } from './ledger-services';

type CreateClientBody = { clientId: string; role: ClientRole; mode?: Mode };
type ClientIdParams = { clientId: string };
type EmptyBody = Record<string, never>;

const createClientSchema: JSONSchemaType<CreateClientBody> = {
  type: 'object',
  properties: {
    clientId: idSchema,
    role: clientRoleSchema,
    mode: { type: 'string', enum: modes, nullable: true },
  },
  required: ['clientId', 'role'],
  additionalProperties: false,
};

/** The {clientId} of every /v1/clients/{clientId}… route. */
export const clientIdParamsSchema: JSONSchemaType<ClientIdParams> = {
  type: 'object',
  properties: { clientId: idSchema },
  required: ['clientId'],
  additionalProperties: false,
};

const emptyBodySchema: JSONSchemaType<EmptyBody> = {
  type: 'object',
  required: [],
  additionalProperties: false,
};

/** The client as the API shows it: never the key hash. */
const clientView = (client: Client): Omit<Client, 'keyHash'> => ({
  clientId: client.clientId,
  role: client.role,
  mode: client.mode,
  createdAt: client.createdAt,
  revokedAt: client.revokedAt,
});

/**
 * Admin-only client management. A new client is in the mode its body names, `test` when it names
 * none: a key minted without a stated mode can move only sandbox money.
 * POST /v1/clients is deliberately not behind idempotency(): its
 * response carries the new API key, which must never be persisted, and a retry cannot create a
 * second client anyway (same clientId → 409 client_exists).
 */
export const registerClientRoutes = (kit: RouteKit): void => {
  const { router, clientStore } = kit;
  const createBody = validateBody(createClientSchema);
  const clientIdParams = validateParams(clientIdParamsSchema);
  const revokeBody = validateBody(emptyBodySchema, { optional: true });
  const adminOnly = requireScope('clients:admin');

  router.post('/clients', adminOnly, kit.jsonBody(), createBody, async (ctx) => {
    const { clientId, role, mode = 'test' } = createBody.read(ctx);
    const apiKey = generateApiKey(mode);
    const createdAt = new Date(kit.nowMs()).toISOString();
    const keyHash = hashApiKey(apiKey);
    const client: Client = { clientId, role, mode, keyHash, createdAt, revokedAt: null };
    const created = await clientStore.create(client);
    if (!created.ok) return sendError(ctx, 'client_exists', { data: { clientId } });
    // Never the key: who created which client with which role.
    securityAuditOf(ctx)?.report('admin_action', clientOf(ctx).clientId, {
      action: 'create_client',
      clientId,
      role,
      mode,
      requestId: ctx.state.requestId,
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Location', `/v1/clients/${clientId}`);
    return sendOk(ctx, { ...clientView(client), apiKey }, 201);
  });

  router.get('/clients/:clientId', adminOnly, clientIdParams, async (ctx) => {
    const client = await clientStore.findById(clientIdParams.read(ctx).clientId);
    if (client === null) return sendError(ctx, 'not_found', { msg: 'no such client' });
    return sendOk(ctx, clientView(client));
  });

  router.post(
    '/clients/:clientId/revoke',
    adminOnly,
    clientIdParams,
    kit.jsonBody({ required: false }),
    revokeBody,
    kit.idempotency(),
    async (ctx) => {
      const revokedAt = new Date(kit.nowMs()).toISOString();
      const client = await clientStore.revoke(clientIdParams.read(ctx).clientId, revokedAt);
      if (client === null) return sendError(ctx, 'not_found', { msg: 'no such client' });
      securityAuditOf(ctx)?.report('admin_action', clientOf(ctx).clientId, {
        action: 'revoke_client',
        clientId: client.clientId,
        requestId: ctx.state.requestId,
      });
      return sendOk(ctx, clientView(client));
    },
  );
};
