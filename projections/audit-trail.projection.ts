import type { RecordedEvent } from '../domain/ports/event-store.port';
import { asJson, positionKeyOf, type Projection, type ProjectionContext } from './projection';

/**
 * audit_trail: one document per event, keyed by event id (so a replay rewrites the same one):
 * who (client, role, IP from metadata.actor) did what (type) to which stream, when, and under
 * which correlation id.
 */
export const AUDIT_TRAIL = 'audit_trail';

const apply = (event: RecordedEvent, context: ProjectionContext): Promise<void> => {
  const { actor, occurredAt, correlationId, causationId } = event.metadata;
  const category = event.stream.split('-', 1)[0] ?? event.stream;
  const view = {
    eventId: event.id,
    stream: event.stream,
    category,
    revision: event.revision,
    type: event.type,
    position: event.position.toString(),
    clientId: actor.clientId,
    role: actor.role,
    ip: actor.ip,
    occurredAt,
    correlationId,
    causationId,
  };
  const positionKey = positionKeyOf(event.position);
  context.put(
    AUDIT_TRAIL,
    event.id,
    asJson({
      view,
      positionKey,
      clientId: actor.clientId,
      stream: event.stream,
      category,
      type: event.type,
      correlationId,
      occurredAt,
    }),
  );
  return Promise.resolve();
};

export const auditTrailProjection: Projection = {
  name: 'audit_trail',
  collections: [
    {
      name: AUDIT_TRAIL,
      indexes: [
        ['positionKey'],
        ['clientId', 'positionKey'],
        ['stream', 'positionKey'],
        ['correlationId', 'positionKey'],
        ['category', 'positionKey'],
      ],
    },
  ],
  apply,
};
