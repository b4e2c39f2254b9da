import type { CommandContext } from '../domain/actors/actor-runtime';

/** The context of commands a bench drives straight through the actor runtime (no HTTP). */
export const benchCommandContext = (correlationId: string, now: string): CommandContext => ({
  correlationId,
  causationId: null,
  actor: { clientId: 'bench', role: 'admin', ip: null },
  idempotencyKey: null,
  now,
  eventIdSeed: null,
});
