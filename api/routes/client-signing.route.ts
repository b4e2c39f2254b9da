import type { JSONSchemaType } from 'ajv';
import { generateSigningSecret } from '../../domain/ports/request-signing.port';
import type { Governance } from '../governance';
import { clientIdParamsSchema } from './clients.route';
import type { RouteKit } from '../route-kit';
import { sendError, sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams } from '../middleware/validate';

type SigningBody = { required: boolean };

const signingBodySchema: JSONSchemaType<SigningBody> = {
  type: 'object',
  properties: { required: { type: 'boolean' } },
  required: ['required'],
  additionalProperties: false,
};

/**
 * POST /v1/clients/:clientId/signing-secret (admin): sets a fresh signing secret for the client
 * and whether its requests must be signed; answers the secret once (never stored in a response
 * cache: no Idempotency-Key, like POST /v1/clients). Calling it again rotates the secret.
 */
export const registerClientSigningRoutes = (
  kit: RouteKit,
  governance: Pick<Governance, 'signing'>,
): void => {
  const body = validateBody(signingBodySchema);
  const params = validateParams(clientIdParamsSchema);
  kit.router.post(
    '/clients/:clientId/signing-secret',
    requireScope('clients:admin'),
    params,
    kit.jsonBody(),
    body,
    async (ctx) => {
      const { clientId } = params.read(ctx);
      const { required } = body.read(ctx);
      if ((await kit.clientStore.findById(clientId)) === null)
        return sendError(ctx, 'not_found', { msg: 'no such client' });
      const updatedAt = new Date(kit.nowMs()).toISOString();
      const signingSecret = generateSigningSecret();
      await governance.signing.put(clientId, { secret: signingSecret, required, updatedAt });
      kit.security.record(ctx, 'signing_secret_set', { targetClientId: clientId, required });
      ctx.set('Cache-Control', 'no-store');
      return sendOk(ctx, { clientId, required, updatedAt, signingSecret }, 201);
    },
  );
};
