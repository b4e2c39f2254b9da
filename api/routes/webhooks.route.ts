import { randomBytes } from 'node:crypto';
import type { Mode } from '../../domain/mode/mode';
import type { JSONSchemaType } from 'ajv';
import type { WebhookSender } from '../../domain/ports/webhook-sender.port';
import type {
  WebhookDelivery,
  WebhookEndpoint,
  WebhookStore,
} from '../../domain/ports/webhook-store.port';
import {
  merchantSecretIdOf,
  webhookEventTypes,
  type WebhookEventType,
} from '../../domain/webhook/webhook.model';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams, validateQuery } from '../middleware/validate';
import { descriptionSchema, idSchema } from '../schemas/common.schema';
import type { RouteKit, RouteRegistrar } from '../route-kit';

/** What the webhook routes need; the composition root builds them (bin/webhooks.ts). */
type WebhookServices = {
  store: WebhookStore;
  sender: WebhookSender;
  newId: () => string;
  /** Endpoints per merchant. */
  endpointCountMax: number;
  /** Attempts listed per delivery in a delivery log. */
  attemptCountMax: number;
  /** Wakes the delivery worker after a resend. */
  wake: () => void;
};

const URL_CHARS_MAX = 2048;
const ROTATION_HOURS_MAX = 7 * 24;
const DEFAULT_ROTATION_HOURS = 24;

type CreateBody = {
  url: string;
  eventTypes: WebhookEventType[];
  description?: string;
  merchantId?: string;
};
type UpdateBody = {
  url?: string;
  eventTypes?: WebhookEventType[];
  description?: string;
  enabled?: boolean;
};
const urlSchema = { type: 'string', minLength: 1, maxLength: URL_CHARS_MAX } as const;
const eventTypesSchema = {
  type: 'array',
  minItems: 1,
  maxItems: webhookEventTypes.length,
  uniqueItems: true,
  items: { type: 'string', enum: [...webhookEventTypes] },
} as const;
const createSchema: JSONSchemaType<CreateBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'eventTypes'],
  properties: {
    url: urlSchema,
    eventTypes: eventTypesSchema,
    description: { ...descriptionSchema, nullable: true },
    merchantId: { ...idSchema, nullable: true },
  },
};
const updateSchema: JSONSchemaType<UpdateBody> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  minProperties: 1,
  properties: {
    url: { ...urlSchema, nullable: true },
    eventTypes: { ...eventTypesSchema, nullable: true },
    description: { ...descriptionSchema, nullable: true },
    enabled: { type: 'boolean', nullable: true },
  },
};
const rotateSchema: JSONSchemaType<{ previousSecretExpiresInHours?: number }> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    previousSecretExpiresInHours: {
      type: 'integer',
      minimum: 0,
      maximum: ROTATION_HOURS_MAX,
      nullable: true,
    },
  },
};
const endpointParams: JSONSchemaType<{ endpointId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['endpointId'],
  properties: { endpointId: { type: 'string', format: 'uuid' } },
};
const eventParams: JSONSchemaType<{ eventId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['eventId'],
  properties: { eventId: { type: 'string', format: 'uuid' } },
};
const deliveryParams: JSONSchemaType<{ deliveryId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['deliveryId'],
  properties: { deliveryId: { type: 'string', format: 'uuid' } },
};
const listQuery: JSONSchemaType<{ merchantId?: string }> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: { merchantId: { ...idSchema, nullable: true } },
};

const emptyBodySchema: JSONSchemaType<Record<string, never>> = {
  type: 'object',
  required: [],
  additionalProperties: false,
};

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A merchant's own secret, which signs its payments' notifyUrl calls: created on first use. */
export const ensureMerchantSecret = async (
  store: WebhookStore,
  merchant: { merchantId: string; mode: Mode },
  nowMs: number,
): Promise<WebhookEndpoint | null> => {
  const { merchantId, mode } = merchant;
  const endpointId = merchantSecretIdOf(merchantId);
  await store.createEndpoint({
    endpointId,
    kind: 'merchant',
    merchantId,
    mode,
    url: '',
    eventTypes: [],
    description: '',
    enabled: false,
    secret: newSecret(),
    previousSecret: null,
    failingSinceMs: null,
    createdAtMs: nowMs,
  });
  return store.findEndpoint(endpointId);
};

/** The endpoint as the API shows it; the secrets only when just created or rotated. */
const endpointView = (endpoint: WebhookEndpoint, withSecret = false) => ({
  endpointId: endpoint.endpointId,
  merchantId: endpoint.merchantId,
  mode: endpoint.mode,
  url: endpoint.url,
  eventTypes: endpoint.eventTypes,
  description: endpoint.description,
  enabled: endpoint.enabled,
  failingSince: iso(endpoint.failingSinceMs),
  previousSecretExpiresAt: iso(endpoint.previousSecret?.expiresAtMs ?? null),
  createdAt: iso(endpoint.createdAtMs),
  ...(withSecret ? { secret: endpoint.secret } : {}),
});

const deliveryView = (delivery: WebhookDelivery) => ({
  deliveryId: delivery.deliveryId,
  eventId: delivery.eventId,
  eventType: delivery.eventType,
  endpointId: delivery.endpointId,
  status: delivery.status,
  failedAttemptCount: delivery.failedAttemptCount,
  nextAttemptAt: delivery.status === 'pending' ? iso(delivery.nextAttemptAtMs) : null,
  createdAt: iso(delivery.createdAtMs),
});

type Ctx = Parameters<Parameters<RouteKit['router']['get']>[1]>[0];

/** Admins see every endpoint and delivery (of both modes); a merchant only its own. */
const visible = (ctx: Ctx, owner: { merchantId: string; mode?: Mode }): boolean => {
  const client = clientOf(ctx);
  if (client.role === 'admin') return true;
  return client.clientId === owner.merchantId && (owner.mode ?? client.mode) === client.mode;
};

export const webhookRoutes =
  (services: WebhookServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const writers = requireScope('webhooks:write');
    const create = validateBody(createSchema);
    const update = validateBody(updateSchema);
    const rotate = validateBody(rotateSchema, { optional: true });
    const endpoint = validateParams(endpointParams);
    const list = validateQuery(listQuery);
    const { store } = services;

    const urlRefused = async (ctx: Ctx, url: string): Promise<boolean> => {
      const reason = await services.sender.refusal(url);
      if (reason !== null)
        sendError(ctx, 'webhook_url_refused', { data: { field: 'url', reason } });
      return reason !== null;
    };
    const findVisible = async (ctx: Ctx, endpointId: string) => {
      const found = await store.findEndpoint(endpointId);
      if (found?.kind === 'endpoint' && visible(ctx, found)) return found;
      sendError(ctx, 'webhook_endpoint_not_found', { data: { endpointId } });
      return null;
    };

    kit.router.post(
      '/webhook-endpoints',
      writers,
      kit.jsonBody(),
      create,
      kit.idempotency(),
      async (ctx) => {
        const body = create.read(ctx);
        const client = clientOf(ctx);
        if (body.merchantId !== undefined && client.role !== 'admin')
          return sendError(ctx, 'forbidden', {
            msg: 'only admins name another merchantId',
            data: { field: 'merchantId' },
          });
        const merchantId = body.merchantId ?? client.clientId;
        if (await urlRefused(ctx, body.url)) return;
        const existing = await store.listEndpoints(merchantId, services.endpointCountMax);
        if (existing.length >= services.endpointCountMax)
          return sendError(ctx, 'webhook_endpoint_limit', {
            data: { endpointCountMax: services.endpointCountMax },
          });
        const created: WebhookEndpoint = {
          endpointId: services.newId(),
          kind: 'endpoint',
          merchantId,
          mode: client.mode,
          url: body.url,
          eventTypes: body.eventTypes,
          description: body.description ?? '',
          enabled: true,
          secret: newSecret(),
          previousSecret: null,
          failingSinceMs: null,
          createdAtMs: kit.nowMs(),
        };
        await store.createEndpoint(created);
        ctx.set('Cache-Control', 'no-store');
        ctx.set('Location', `/v1/webhook-endpoints/${created.endpointId}`);
        sendOk(ctx, endpointView(created, true), 201);
      },
    );

    kit.router.get('/webhook-endpoints', writers, list, async (ctx) => {
      const client = clientOf(ctx);
      const merchantId =
        client.role === 'admin' ? (list.read(ctx).merchantId ?? client.clientId) : client.clientId;
      const endpoints = await store.listEndpoints(merchantId, services.endpointCountMax);
      const items = endpoints.filter((found) => visible(ctx, found));
      sendOk(ctx, { items: items.map((found) => endpointView(found)) });
    });

    kit.router.get('/webhook-endpoints/:endpointId', writers, endpoint, async (ctx) => {
      const found = await findVisible(ctx, endpoint.read(ctx).endpointId);
      if (found !== null) sendOk(ctx, endpointView(found));
    });

    kit.router.patch(
      '/webhook-endpoints/:endpointId',
      writers,
      endpoint,
      kit.jsonBody(),
      update,
      async (ctx) => {
        const { endpointId } = endpoint.read(ctx);
        if ((await findVisible(ctx, endpointId)) === null) return;
        const change = Object.fromEntries(
          Object.entries(update.read(ctx)).filter(([, value]) => value !== undefined),
        ) as UpdateBody;
        if (change.url !== undefined && (await urlRefused(ctx, change.url))) return;
        const updated = await store.updateEndpoint(endpointId, change);
        if (updated === null) return sendError(ctx, 'webhook_endpoint_not_found');
        if (change.enabled === true) services.wake();
        sendOk(ctx, endpointView(updated));
      },
    );

    kit.router.delete('/webhook-endpoints/:endpointId', writers, endpoint, async (ctx) => {
      const { endpointId } = endpoint.read(ctx);
      if ((await findVisible(ctx, endpointId)) === null) return;
      await store.deleteEndpoint(endpointId, kit.nowMs());
      sendOk(ctx, { endpointId, deleted: true });
    });

    kit.router.post(
      '/webhook-endpoints/:endpointId/rotate-secret',
      writers,
      endpoint,
      kit.jsonBody({ required: false }),
      rotate,
      kit.idempotency(),
      async (ctx) => {
        const { endpointId } = endpoint.read(ctx);
        if ((await findVisible(ctx, endpointId)) === null) return;
        const hours = rotate.read(ctx)?.previousSecretExpiresInHours ?? DEFAULT_ROTATION_HOURS;
        const expiresAtMs = kit.nowMs() + hours * 3600 * 1000;
        const rotated = await store.rotateSecret(endpointId, newSecret(), expiresAtMs);
        if (rotated === null) return sendError(ctx, 'webhook_endpoint_not_found');
        ctx.set('Cache-Control', 'no-store');
        sendOk(ctx, endpointView(rotated, true));
      },
    );

    registerDeliveryRoutes(kit, services);
    registerMerchantSecretRoutes(kit, services);
  };

/** GET /v1/webhook-secret and its rotation: the secret that signs payments' notifyUrl calls. */
const registerMerchantSecretRoutes = (kit: RouteKit, services: WebhookServices): void => {
  const merchants = requireScope('webhooks:write');
  const rotate = validateBody(rotateSchema, { optional: true });
  const secretView = (row: WebhookEndpoint) => ({
    merchantId: row.merchantId,
    secret: row.secret,
    previousSecretExpiresAt: iso(row.previousSecret?.expiresAtMs ?? null),
  });

  kit.router.get('/webhook-secret', merchants, async (ctx) => {
    const { clientId: merchantId, mode } = clientOf(ctx);
    const row = await ensureMerchantSecret(services.store, { merchantId, mode }, kit.nowMs());
    if (row === null) return sendError(ctx, 'webhook_endpoint_not_found');
    ctx.set('Cache-Control', 'no-store');
    sendOk(ctx, secretView(row));
  });

  kit.router.post(
    '/webhook-secret/rotate',
    merchants,
    kit.jsonBody({ required: false }),
    rotate,
    kit.idempotency(),
    async (ctx) => {
      const { clientId: merchantId, mode } = clientOf(ctx);
      await ensureMerchantSecret(services.store, { merchantId, mode }, kit.nowMs());
      const hours = rotate.read(ctx)?.previousSecretExpiresInHours ?? DEFAULT_ROTATION_HOURS;
      const expiresAtMs = kit.nowMs() + hours * 3600 * 1000;
      const endpointId = merchantSecretIdOf(merchantId);
      const rotated = await services.store.rotateSecret(endpointId, newSecret(), expiresAtMs);
      if (rotated === null) return sendError(ctx, 'webhook_endpoint_not_found');
      ctx.set('Cache-Control', 'no-store');
      sendOk(ctx, secretView(rotated));
    },
  );
};

/** The delivery log of an event and the manual resend of one delivery. */
const registerDeliveryRoutes = (kit: RouteKit, services: WebhookServices): void => {
  const writers = requireScope('webhooks:write');
  const event = validateParams(eventParams);
  const delivery = validateParams(deliveryParams);
  const emptyBody = validateBody(emptyBodySchema, { optional: true });

  kit.router.get('/webhook-events/:eventId/deliveries', writers, event, async (ctx) => {
    const deliveries = await services.store.deliveriesOfEvent(
      event.read(ctx).eventId,
      services.attemptCountMax,
    );
    const items = deliveries
      .filter((found) => visible(ctx, found))
      .map((found) => ({
        ...deliveryView(found),
        attempts: found.attempts.map((attempt) => ({
          attemptedAt: iso(attempt.attemptedAtMs),
          durationMs: attempt.durationMs,
          httpStatus: attempt.httpStatus,
          error: attempt.error,
        })),
      }));
    sendOk(ctx, { eventId: event.read(ctx).eventId, items });
  });

  kit.router.post(
    '/webhook-deliveries/:deliveryId/resend',
    writers,
    delivery,
    kit.jsonBody({ required: false }),
    emptyBody,
    kit.idempotency(),
    async (ctx) => {
      const { deliveryId } = delivery.read(ctx);
      const found = await services.store.findDelivery(deliveryId);
      if (found === null || !visible(ctx, found))
        return sendError(ctx, 'webhook_delivery_not_found', { data: { deliveryId } });
      const resent = await services.store.resend(deliveryId, kit.nowMs());
      if (resent === null) return sendError(ctx, 'webhook_delivery_not_found');
      services.wake();
      sendOk(ctx, deliveryView(resent), 202);
    },
  );
};
