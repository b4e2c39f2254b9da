import type { CommandContext } from '../domain/actors/actor-runtime';
import { EMPTY_CHAIN, sealEvents } from '../domain/event-chain';
import { deterministicEventId } from '../domain/event-ids';
import type { EventStore, JsonObject } from '../domain/ports/event-store.port';

/**
 * Appends the one event of an upgrade's marker stream, which tells later starts that the upgrade
 * is done. Its id derives from the stream, so a second run's marker is the same event; a conflict
 * means another run's marker landed first, and the upgrade is done either way.
 */
export const appendUpgradeMarker = async (
  store: EventStore,
  marker: {
    stream: string;
    type: string;
    data: JsonObject;
    actor: CommandContext['actor'];
    now: string;
  },
): Promise<void> => {
  const { events } = sealEvents(marker.stream, EMPTY_CHAIN, [
    {
      id: deterministicEventId(marker.stream, 0),
      type: marker.type,
      data: marker.data,
      metadata: {
        correlationId: marker.stream,
        causationId: null,
        actor: marker.actor,
        idempotencyKey: null,
        occurredAt: marker.now,
        schemaVersion: 1,
      },
    },
  ]);
  await store.append(marker.stream, events, { kind: 'no_stream' });
};
