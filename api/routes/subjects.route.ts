import type { JSONSchemaType } from 'ajv';
import type { PersonalDataAccess } from '../personal-data';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { sendError, sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams } from '../middleware/validate';
import { idSchema } from '../schemas/common.schema';

const subjectParamsSchema: JSONSchemaType<{ subjectId: string }> = {
  type: 'object',
  properties: { subjectId: idSchema },
  required: ['subjectId'],
  additionalProperties: false,
};

const emptyBodySchema: JSONSchemaType<Record<string, never>> = {
  type: 'object',
  required: [],
  additionalProperties: false,
};

/**
 * POST /v1/subjects/:subjectId/erase (admin): crypto-shredding. Destroys the subject's key, so
 * that every holder sealed under it reads as "erased" from then on; the events, their hash
 * chains and every balance stay as they are. Repeating it answers the first erasure's time.
 */
export const subjectRoutes =
  (access: PersonalDataAccess): RouteRegistrar =>
  (kit: RouteKit) => {
    const params = validateParams(subjectParamsSchema);
    const body = validateBody(emptyBodySchema, { optional: true });
    kit.router.post(
      '/subjects/:subjectId/erase',
      requireScope('pii:erase'),
      params,
      kit.jsonBody({ required: false }),
      body,
      async (ctx) => {
        const { subjectId } = params.read(ctx);
        const erased = await access.vault.erase(subjectId, new Date(kit.nowMs()).toISOString());
        if (!erased.ok) return sendError(ctx, 'subject_not_found', { data: { subjectId } });
        access.security.record(ctx, 'subject_erased', { subjectId, erasedAt: erased.erasedAt });
        return sendOk(ctx, { subjectId, erasedAt: erased.erasedAt });
      },
    );
  };
