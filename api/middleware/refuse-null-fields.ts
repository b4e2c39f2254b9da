import { sendError } from '../envelope';
import type { RouteMiddleware } from './api-state';

/**
 * Refuses a JSON body with a top-level field set to null (400 naming it). ajv lets null through
 * every optional field (JSONSchemaType marks them `nullable`), and on the routes that use this
 * an absent field means "the default" or "unchanged" while null would reach the command as a
 * value it cannot hold. Runs after jsonBody(), before the body's validator.
 */
export const refuseNullFields = (): RouteMiddleware => async (ctx, next) => {
  const body: unknown = ctx.request.body;
  const field =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? Object.entries(body).find(([, value]) => value === null)?.[0]
      : undefined;
  if (field !== undefined) {
    sendError(ctx, 'invalid_request', { msg: `body.${field} must not be null`, data: { field } });
    return;
  }
  await next();
};
