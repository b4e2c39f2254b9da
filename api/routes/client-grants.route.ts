import type { JSONSchemaType } from 'ajv';
import { generateClientSecret, hashClientSecret } from '../../domain/auth/client-secret';
import { grantStatus, type Grant } from '../../domain/auth/grants';
import { SCOPES, type Scope } from '../../domain/auth/scopes';
import { clientIdParamsSchema } from './clients.route';
import type { RouteKit } from '../route-kit';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams } from '../middleware/validate';
import { idSchema, instantSchema } from '../schemas/common.schema';

/** The longest a grant may run, and the most scopes and resources one may name. */
const GRANT_DURATION_MS_MAX = 366 * 24 * 3600 * 1000;
const GRANT_SCOPE_COUNT_MAX = SCOPES.length;
const GRANT_RESOURCE_COUNT_MAX = 100;
const LIST_COUNT_MAX = 100;

type GrantBody = {
  grantId: string;
  scopes: Scope[];
  resources?: string[];
  expiresAt: string;
};
type GrantParams = { clientId: string; grantId: string };
type EmptyBody = Record<string, never>;

const grantBodySchema: JSONSchemaType<GrantBody> = {
  type: 'object',
  properties: {
    grantId: idSchema,
    scopes: {
      type: 'array',
      items: { type: 'string', enum: SCOPES },
      minItems: 1,
      maxItems: GRANT_SCOPE_COUNT_MAX,
      uniqueItems: true,
    },
    resources: {
      type: 'array',
      items: { type: 'string', pattern: '^account:[A-Za-z0-9_-]{1,64}$' },
      maxItems: GRANT_RESOURCE_COUNT_MAX,
      uniqueItems: true,
      nullable: true,
    },
    expiresAt: instantSchema,
  },
  required: ['grantId', 'scopes', 'expiresAt'],
  additionalProperties: false,
};

const grantParamsSchema: JSONSchemaType<GrantParams> = {
  type: 'object',
  properties: { clientId: idSchema, grantId: idSchema },
  required: ['clientId', 'grantId'],
  additionalProperties: false,
};

const emptyBodySchema: JSONSchemaType<EmptyBody> = {
  type: 'object',
  required: [],
  additionalProperties: false,
};

const grantView = (grant: Grant, nowMs: number): Grant & { status: string } => ({
  ...grant,
  status: grantStatus(grant, nowMs),
});

/**
 * A client's OAuth secret and its grants (scope clients:admin). Each change is written to the
 * security audit trail before the answer, and before the change itself: a failure in between
 * leaves a recorded attempt, never an unrecorded change.
 */
export const registerClientGrantRoutes = (kit: RouteKit): void => {
  const admins = requireScope('clients:admin');
  const clientParams = validateParams(clientIdParamsSchema);
  const grantParams = validateParams(grantParamsSchema);
  const grantBody = validateBody(grantBodySchema);
  const emptyBody = validateBody(emptyBodySchema, { optional: true });

  // Like POST /v1/clients, not behind idempotency(): the answer carries a secret never stored.
  kit.router.post('/clients/:clientId/secret', admins, clientParams, async (ctx) => {
    const { clientId } = clientParams.read(ctx);
    if ((await kit.clientStore.findById(clientId)) === null)
      return sendError(ctx, 'not_found', { msg: 'no such client' });
    const clientSecret = generateClientSecret();
    kit.security.record(ctx, 'client_secret_issued', { subjectClientId: clientId });
    await kit.security.flush();
    await kit.clientStore.setSecretHash(clientId, await hashClientSecret(clientSecret));
    ctx.set('Cache-Control', 'no-store');
    return sendOk(ctx, { clientId, clientSecret }, 201);
  });

  kit.router.post(
    '/clients/:clientId/grants',
    admins,
    clientParams,
    kit.jsonBody(),
    grantBody,
    kit.idempotency(),
    async (ctx) => {
      const { clientId } = clientParams.read(ctx);
      const body = grantBody.read(ctx);
      const nowMs = kit.nowMs();
      const expiresAtMs = Date.parse(body.expiresAt);
      if (expiresAtMs <= nowMs || expiresAtMs - nowMs > GRANT_DURATION_MS_MAX)
        return sendError(ctx, 'invalid_request', {
          msg: 'expiresAt must be in the future and at most 366 days away',
          data: { field: 'expiresAt' },
        });
      if ((await kit.clientStore.findById(clientId)) === null)
        return sendError(ctx, 'not_found', { msg: 'no such client' });
      const grant: Grant = {
        grantId: body.grantId,
        clientId,
        scopes: body.scopes,
        resources: body.resources ?? [],
        grantedBy: clientOf(ctx).clientId,
        grantedAt: new Date(nowMs).toISOString(),
        expiresAt: new Date(expiresAtMs).toISOString(),
        revokedAt: null,
      };
      kit.security.record(ctx, 'grant_added', {
        grantId: grant.grantId,
        subjectClientId: clientId,
        scopes: [...grant.scopes],
        resources: [...grant.resources],
        expiresAt: grant.expiresAt,
      });
      await kit.security.flush();
      const added = await kit.grantStore.add(grant);
      if (!added.ok) return sendError(ctx, 'grant_exists', { data: { grantId: grant.grantId } });
      return sendOk(ctx, grantView(grant, nowMs), 201);
    },
  );

  kit.router.get('/clients/:clientId/grants', admins, clientParams, async (ctx) => {
    const { clientId } = clientParams.read(ctx);
    const grants = await kit.grantStore.listByClient(clientId, LIST_COUNT_MAX);
    const nowMs = kit.nowMs();
    return sendOk(ctx, { grants: grants.map((grant) => grantView(grant, nowMs)) });
  });

  kit.router.post(
    '/clients/:clientId/grants/:grantId/revoke',
    admins,
    grantParams,
    kit.jsonBody({ required: false }),
    emptyBody,
    kit.idempotency(),
    async (ctx) => {
      const { clientId, grantId } = grantParams.read(ctx);
      const nowMs = kit.nowMs();
      kit.security.record(ctx, 'grant_revoked', { grantId, subjectClientId: clientId });
      await kit.security.flush();
      const grant = await kit.grantStore.revoke(clientId, grantId, new Date(nowMs).toISOString());
      if (grant === null) return sendError(ctx, 'grant_not_found', { data: { grantId } });
      return sendOk(ctx, grantView(grant, nowMs));
    },
  );
};
