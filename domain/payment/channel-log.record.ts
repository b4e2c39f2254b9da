import type { ActorRuntime, CommandContext } from '../actors/actor-runtime';
import { assert } from '../assert';
import { channelLogAggregate, type ChannelLogEvent } from './channel-log.decider';

/** Appends one fact to channellog-<id> through its actor (which seals the hash chain). */
export const recordChannelFact = async (
  runtime: ActorRuntime,
  id: string,
  event: ChannelLogEvent,
  context: CommandContext,
): Promise<void> => {
  const outcome = await runtime.execute(
    channelLogAggregate,
    id,
    { type: 'RecordChannelFact', data: event },
    context,
  );
  assert(outcome.ok, 'the channel log never refuses a fact');
};

/** Metadata of facts the service records on its own (outbound calls), not for a client request. */
export const systemContext = (correlationId: string, nowIso: string): CommandContext => ({
  correlationId,
  causationId: null,
  actor: { clientId: 'system:channels', role: 'system', ip: null },
  idempotencyKey: null,
  now: nowIso,
  eventIdSeed: null,
});
