import { PassThrough } from 'node:stream';
import type { JSONSchemaType } from 'ajv';
import type { JsonObject } from '../../domain/ports/event-store.port';
import { ACCOUNTS } from '../../projections/accounts.projection';
import { PAYMENTS } from '../../projections/payments.projection';
import type { WatchedChange } from '../../projections/projection';
import { viewOf } from '../../projections/projection';
import { TRANSFERS } from '../../projections/transfers.projection';
import { sendError } from '../envelope';
import { serviceMetrics } from '../metrics';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateParams, validateQuery } from '../middleware/validate';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { idSchema } from '../schemas/common.schema';
import { findDocument, prepareQuery, seesAll, type QueryDeps } from './queries/query-kit';

/**
 * GET /v1/events/{payments|transfers|accounts}/{id}: Server-Sent Events with the resource's view
 * each time its status (an account: its balances) changes. Each event's id is the log position of
 * the change. On connect the current view is sent unless Last-Event-ID shows the client has it, so
 * a reconnecting client catches up with the latest state (intermediate states are in the audit
 * trail), then live changes follow.
 */
type SseDeps = QueryDeps & { heartbeatMs: number };

const RESOURCES = {
  payments: {
    stream: 'payment',
    collection: PAYMENTS,
    owner: 'merchantId',
    notFound: 'payment_not_found',
  },
  transfers: {
    stream: 'transfer',
    collection: TRANSFERS,
    owner: 'debitOwnerClientId',
    notFound: 'transfer_not_found',
  },
  accounts: {
    stream: 'account',
    collection: ACCOUNTS,
    owner: 'ownerClientId',
    notFound: 'account_not_found',
  },
} as const;
type ResourceName = keyof typeof RESOURCES;

const paramsSchema: JSONSchemaType<{ resource: ResourceName; id: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['resource', 'id'],
  properties: {
    resource: { type: 'string', enum: ['payments', 'transfers', 'accounts'] },
    id: idSchema,
  },
};
const querySchema: JSONSchemaType<{ after?: string; last_event_id?: string }> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { type: 'string', pattern: '^[0-9]{1,20}$', nullable: true },
    last_event_id: { type: 'string', pattern: '^[0-9]{1,20}$', nullable: true },
  },
};
const LAST_EVENT_ID = /^[0-9]{1,20}$/;
/** The last event of a stream ended by the service's stop. */
const SHUTDOWN_FRAME = 'event: shutdown\ndata: {"reason":"draining"}\n\n';

const frame = (kind: string, position: bigint, view: JsonObject): string =>
  `id: ${position.toString()}\nevent: ${kind}\ndata: ${JSON.stringify(view)}\n\n`;

export const eventsSseRoutes =
  (deps: SseDeps): RouteRegistrar =>
  (kit: RouteKit) => {
    const params = validateParams(paramsSchema);
    const query = validateQuery(querySchema);

    kit.router.get(
      '/events/:resource/:id',
      requireScope('events:read'),
      params,
      query,
      async (ctx) => {
        const { resource, id } = params.read(ctx);
        const { after, last_event_id: lastEventIdParam } = query.read(ctx);
        const lastEventIdHeader = ctx.get('Last-Event-ID');
        if (lastEventIdHeader !== '' && !LAST_EVENT_ID.test(lastEventIdHeader)) {
          sendError(ctx, 'invalid_request', {
            msg: 'Last-Event-ID must be a log position',
            data: { field: 'Last-Event-ID' },
          });
          return;
        }
        const lastEventIdText = lastEventIdHeader === '' ? lastEventIdParam : lastEventIdHeader;
        const spec = RESOURCES[resource];
        const generation = await prepareQuery(deps, ctx, after === undefined ? {} : { after });
        if (generation === null) return;
        // Watch before reading, so that a change committed in between is not lost.
        const early: WatchedChange[] = [];
        let deliver = (change: WatchedChange): void => void early.push(change);
        const unwatch = await deps.readSide.watch(`${spec.stream}-${id}`, (change) =>
          deliver(change),
        );
        if (unwatch === null) {
          serviceMetrics().refusals.inc({ reason: 'too_many_watchers' });
          return sendError(ctx, 'too_many_watchers');
        }
        const document = await findDocument(deps, generation, spec.collection, id);
        const { clientId, mode } = clientOf(ctx);
        // A payment is a merchant's only in the merchant's mode; accounts and transfers have none.
        const otherMode = resource === 'payments' && document?.['mode'] !== mode;
        if (
          document === null ||
          (!seesAll(ctx) && (document[spec.owner] !== clientId || otherMode))
        ) {
          unwatch();
          return sendError(ctx, spec.notFound, { data: { id } });
        }
        const out = new PassThrough();
        out.write('retry: 1000\n\n');
        let sent = lastEventIdText === undefined ? -1n : BigInt(lastEventIdText);
        const send = (kind: string, position: bigint, view: JsonObject): void => {
          if (position <= sent) return;
          sent = position;
          out.write(frame(kind, position, view));
        };
        const view = viewOf(document);
        send(
          spec.stream,
          BigInt(typeof view['position'] === 'string' ? view['position'] : '0'),
          view,
        );
        early.forEach((change) => send(change.kind, change.position, change.view));
        deliver = (change) => send(change.kind, change.position, change.view);
        const heartbeat = setInterval(() => out.write(': heartbeat\n\n'), deps.heartbeatMs);
        let closed = false;
        let stopWaitingForDrain = (): void => undefined;
        const close = (): void => {
          if (closed) return;
          closed = true;
          clearInterval(heartbeat);
          stopWaitingForDrain();
          unwatch();
          out.end();
        };
        // A stop ends the stream with a last event: the client reconnects (to another instance,
        // or to this one restarted) with Last-Event-ID and loses nothing.
        stopWaitingForDrain = kit.drain.onStart(() => {
          out.write(SHUTDOWN_FRAME);
          close();
        });
        ctx.req.once('close', close);
        ctx.req.socket.setTimeout(0);
        ctx.set({
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-cache',
          Connection: 'keep-alive',
          'X-Accel-Buffering': 'no',
        });
        ctx.status = 200;
        ctx.body = out;
      },
    );
  };
