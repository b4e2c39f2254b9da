import type { CommandContext } from '../domain/actors/actor-runtime';
import { actorOf, type ApiState } from './middleware/api-state';

/** The metadata every event of this request carries: who, why (correlation) and when. */
export const commandContext = (
  ctx: { state: ApiState; get: (field: string) => string },
  nowMs: number,
): CommandContext => {
  const idempotencyKey = ctx.get('Idempotency-Key');
  return {
    correlationId: ctx.state.requestId,
    causationId: null,
    actor: actorOf(ctx),
    idempotencyKey: idempotencyKey === '' ? null : idempotencyKey,
    now: new Date(nowMs).toISOString(),
    eventIdSeed: null,
  };
};
