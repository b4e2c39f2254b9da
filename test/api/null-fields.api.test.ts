import { createInMemoryNodePresenceStore } from '../../adapters/presence/in-memory.node-presence-store';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { createSqliteReconciliationStore } from '../../adapters/reconciliation/sqlite.reconciliation-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { createHttpWebhookSender } from '../../adapters/webhooks/http.webhook-sender';
import { createSqliteWebhookStore } from '../../adapters/webhooks/sqlite.webhook-store';
import { nodePresenceRoutes } from '../../api/routes/node-presence.route';
import { nodeRoutes } from '../../api/routes/nodes.route';
import { planRoutes } from '../../api/routes/plans.route';
import { webhookRoutes } from '../../api/routes/webhooks.route';
import { createNodePresence } from '../../domain/node/node-presence';
import { formatSandboxStatement } from '../../domain/reconciliation/statement-csv';
import { createItemCatalogue } from '../../projections/item-catalogue';
import { createLedger } from '../support/ledger-harness';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';
import { createSaleApp, type SaleApp } from './support/sale-app';
import { bearer, createTestApp, type TestApp } from './support/test-app';

/**
 * `null` in a request body never answers 5xx. The walk reads each app's own OpenAPI document
 * (GET /v1/openapi.json) and, for every operation with a JSON body and every optional property of
 * it, sends a valid body with that one property set to null: a property the document says may be
 * null must be accepted (2xx), any other must be refused with 400 `body.<field> must not be null`.
 * The document and the behaviour must agree. Every optional query parameter sent empty (the only
 * way a query string comes near null) must not answer 5xx either.
 */
type Schema = { type?: unknown; properties?: Record<string, Schema>; required?: string[] };
type Operation = {
  requestBody?: { content: { 'application/json': { schema: Schema } } };
  parameters?: { name: string; in: string; required: boolean }[];
};
type Document = { paths: Record<string, Record<string, Operation>> };

type Key = 'admin' | 'merchant' | 'node';
/** A valid body for the operation, at a concrete path (ids made in the apps' setup). */
type Case = { path: string; body: Record<string, unknown>; key?: Key };

const HOOK_URL = 'https://93.184.215.14/hooks';
const NOW_MS = Date.now();
const MINUTE_MS = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();

/** Keyed `<method> <document path>`; a body operation with optional fields missing here fails. */
const CASES: Record<string, Case> = {
  'post /v1/clients': { path: '/v1/clients', body: { clientId: 'n-client', role: 'merchant' } },
  'post /v1/clients/{clientId}/grants': {
    path: '/v1/clients/merchant/grants',
    body: { grantId: 'n-grant', scopes: ['accounts:read'], expiresAt: iso(NOW_MS + 86_400_000) },
  },
  'post /v1/accounts': { path: '/v1/accounts', body: { accountId: 'n-acc', currency: 'EUR' } },
  'post /v1/transfers': {
    path: '/v1/transfers',
    body: {
      transferId: 'n-transfer',
      debitAccountId: 'a',
      creditAccountId: 'b',
      amountMinor: 1,
      currency: 'EUR',
    },
  },
  'post /v1/transfers/{transferId}/post': { path: '/v1/transfers/n-pending/post', body: {} },
  'post /v1/traffic/users/{userId}/grants': {
    path: '/v1/traffic/users/n-user/grants',
    body: { grantId: 'n-traffic-grant', quotaBytes: 100 },
  },
  'post /v1/sandbox/orders/{paymentId}/pay': { path: '/v1/sandbox/orders/:pay/pay', body: {} },
  'post /v1/payments': {
    path: '/v1/payments',
    body: {
      merchantOrderNo: 'n-order',
      amountMinor: 100,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'null walk',
      creditAccountId: 'a',
    },
  },
  'post /v1/payments/{paymentId}/close': { path: '/v1/payments/:close/close', body: {} },
  'post /v1/payments/{paymentId}/refunds': {
    path: '/v1/payments/:pay/refunds',
    body: { refundId: 'n-refund', amountMinor: 1 },
  },
  'post /v1/reconciliations': {
    path: '/v1/reconciliations',
    body: { channel: 'sandbox', statementCsv: formatSandboxStatement([]) },
  },
  'post /v1/reconciliations/runs': {
    path: '/v1/reconciliations/runs',
    body: { channel: 'sandbox' },
  },
  'post /v1/items': {
    path: '/v1/items',
    body: {
      itemId: 'n-item',
      name: 'Null walk',
      priceMinor: 100,
      currency: 'EUR',
      stockUnits: 10,
      startsAt: iso(NOW_MS + 60 * MINUTE_MS),
      endsAt: iso(NOW_MS + 120 * MINUTE_MS),
    },
  },
  'patch /v1/items/{itemId}': { path: '/v1/items/n-item', body: { name: 'Renamed' } },
  'post /v1/items/{itemId}/retire': { path: '/v1/items/n-item-retired/retire', body: {} },
  'post /v1/items/{itemId}/purchases': {
    path: '/v1/items/n-item-on-sale/purchases',
    body: { buyerId: 'n-buyer' },
    key: 'merchant',
  },
  'put /v1/risk-rules': { path: '/v1/risk-rules', body: {} },
  'post /v1/plans': {
    path: '/v1/plans',
    body: {
      planId: 'n-plan',
      name: 'Null walk',
      amountMinor: 100,
      currency: 'EUR',
      quotaBytes: 1000,
      durationDays: 30,
    },
  },
  'patch /v1/plans/{planId}': { path: '/v1/plans/n-plan', body: { name: 'Renamed' } },
  'post /v1/plans/{planId}/retire': { path: '/v1/plans/n-plan-retired/retire', body: {} },
  'post /v1/nodes': {
    path: '/v1/nodes',
    body: { nodeId: 'n-node', name: 'Null walk', clientId: 'n-node-client' },
  },
  'patch /v1/nodes/{nodeId}': { path: '/v1/nodes/n-node', body: { name: 'Renamed' } },
  'post /v1/nodes/{nodeId}/heartbeats': {
    path: '/v1/nodes/n-node/heartbeats',
    body: { onlineUserCount: 1 },
    key: 'node',
  },
  'post /v1/webhook-endpoints': {
    path: '/v1/webhook-endpoints',
    body: { url: HOOK_URL, eventTypes: ['payment.succeeded'] },
    key: 'merchant',
  },
  'patch /v1/webhook-endpoints/{endpointId}': {
    path: '/v1/webhook-endpoints/:endpoint',
    body: { description: 'renamed' },
    key: 'merchant',
  },
  'post /v1/webhook-endpoints/{endpointId}/rotate-secret': {
    path: '/v1/webhook-endpoints/:endpoint/rotate-secret',
    body: {},
    key: 'merchant',
  },
  'post /v1/webhook-secret/rotate': {
    path: '/v1/webhook-secret/rotate',
    body: {},
    key: 'merchant',
  },
};

type Walked = { app: TestApp; keys: Record<Key, string>; ids: Record<string, string> };

let idempotencyCounter = 0;
const send = (walked: Walked, method: string, path: string, body: object, key: Key) => {
  idempotencyCounter += 1;
  const concrete = path.replace(/:([a-z]+)/g, (_match, name: string) => walked.ids[name] ?? name);
  return walked.app
    .http()
    [method as 'post' | 'patch' | 'put'](concrete)
    .set(bearer(walked.keys[key]))
    .set('Idempotency-Key', `null-walk-${idempotencyCounter}`)
    .send(body);
};

const documentOf = async (app: TestApp): Promise<Document> => {
  const response = await app.http().get('/v1/openapi.json');
  expect(response.status).toBe(200);
  return response.body as Document;
};

const mayBeNull = (schema: Schema | undefined): boolean =>
  Array.isArray(schema?.type) && (schema.type as unknown[]).includes('null');

/** The body operations of a document that have optional properties, as `<method> <path>`. */
const bodyOperations = (document: Document) =>
  Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).flatMap(([method, operation]) => {
      const schema = operation.requestBody?.content['application/json'].schema;
      const optional = Object.keys(schema?.properties ?? {}).filter(
        (name) => !(schema?.required ?? []).includes(name),
      );
      return schema === undefined || optional.length === 0
        ? []
        : [{ key: `${method} ${path}`, method, schema, optional }];
    }),
  );

/** Sends each optional field as null, then the valid body; returns what went wrong, in words. */
const walkNulls = async (walked: Walked, seen: Set<string>): Promise<string[]> => {
  const problems: string[] = [];
  for (const operation of bodyOperations(await documentOf(walked.app))) {
    if (seen.has(operation.key)) continue;
    seen.add(operation.key);
    const spec = CASES[operation.key];
    if (spec === undefined) {
      problems.push(`${operation.key}: no valid body in CASES`);
      continue;
    }
    const key = spec.key ?? 'admin';
    for (const field of operation.optional) {
      const answer = await send(
        walked,
        operation.method,
        spec.path,
        { ...spec.body, [field]: null },
        key,
      );
      const said = `${operation.key} ${field}=null → ${answer.status} ${JSON.stringify(answer.body)}`;
      if (answer.status >= 500) problems.push(said);
      else if (mayBeNull(operation.schema.properties?.[field])) {
        if (answer.status >= 300) problems.push(`${said} (documented as nullable)`);
      } else if (
        answer.status !== 400 ||
        answer.body.code !== 40001 ||
        answer.body.msg !== `body.${field} must not be null` ||
        answer.body.data?.field !== field
      )
        problems.push(`${said} (expected 400 body.${field} must not be null)`);
    }
    const valid = await send(walked, operation.method, spec.path, spec.body, key);
    if (valid.status === 400 || valid.status >= 500)
      problems.push(`${operation.key} valid body → ${valid.status} ${JSON.stringify(valid.body)}`);
  }
  return problems;
};

/** Every optional query parameter of a GET without path parameters, sent empty. */
const walkEmptyQueries = async (walked: Walked, seen: Set<string>): Promise<string[]> => {
  const problems: string[] = [];
  for (const [path, operations] of Object.entries((await documentOf(walked.app)).paths)) {
    const parameters = operations['get']?.parameters ?? [];
    if (path.includes('{') || seen.has(path)) continue;
    seen.add(path);
    for (const parameter of parameters.filter((candidate) => candidate.in === 'query')) {
      if (parameter.required) continue;
      const answer = await walked.app
        .http()
        .get(`${path}?${parameter.name}=`)
        .set(bearer(walked.keys.admin));
      if (answer.status >= 500) problems.push(`GET ${path}?${parameter.name}= → ${answer.status}`);
    }
  }
  return problems;
};

describe('null in a request body', () => {
  let ledger: LedgerApp;
  let sale: SaleApp;
  let catalogue: TestApp;
  const stops: (() => Promise<void>)[] = [];
  const walks: Walked[] = [];
  let walkedSale: Walked;

  beforeAll(async () => {
    // The daily run, answered as a service without channel statements would: a 4xx, not a 400.
    ledger = await createLedgerApp({
      reconciliationStore: createSqliteReconciliationStore(openSqliteDatabase(':memory:')),
      reconciliationRunNow: () =>
        Promise.resolve({ ok: false, reason: 'channel_not_configured' as const }),
    });
    for (const accountId of ['a', 'b'])
      expect(
        (await ledger.post('/v1/accounts', { accountId, currency: 'EUR' }, ledger.keys.admin))
          .status,
      ).toBe(201);
    const pending = await ledger.post(
      '/v1/transfers',
      {
        transferId: 'n-pending',
        debitAccountId: 'a',
        creditAccountId: 'b',
        amountMinor: 10,
        currency: 'EUR',
        mode: 'two_phase',
        timeoutMs: 3_600_000,
      },
      ledger.keys.admin,
    );
    expect(pending.status).toBe(201);
    const payment = async (merchantOrderNo: string): Promise<string> => {
      const created = await ledger.post(
        '/v1/payments',
        { ...CASES['post /v1/payments']?.body, merchantOrderNo },
        ledger.keys.admin,
      );
      expect(created.status).toBe(201);
      return (created.body.data.payment ?? created.body.data).paymentId as string;
    };
    walks.push({
      app: ledger,
      keys: { admin: ledger.keys.admin, merchant: ledger.keys.merchant, node: ledger.keys.admin },
      ids: { pay: await payment('n-pay'), close: await payment('n-close') },
    });

    sale = await createSaleApp(NOW_MS);
    stops.push(() => sale.stop());
    for (const [itemId, startsInMs] of [
      ['n-item-retired', 60 * MINUTE_MS],
      ['n-item-on-sale', MINUTE_MS],
    ] as const) {
      const item = { ...CASES['post /v1/items']?.body, itemId, startsAt: iso(NOW_MS + startsInMs) };
      expect((await sale.post('/v1/items', item, sale.keys.admin)).status).toBe(201);
    }
    sale.clock.nowMs = NOW_MS + 2 * MINUTE_MS;
    walkedSale = {
      app: sale,
      keys: { admin: sale.keys.admin, merchant: sale.keys.merchant, node: sale.keys.admin },
      ids: {},
    };
    walks.push(walkedSale);

    const store = createSqliteEventStore({ path: ':memory:' });
    const harness = createLedger(store);
    const items = createItemCatalogue({ store });
    items.start();
    stops.push(
      () => items.stop(),
      () => harness.runtime.close(),
    );
    const presence = createNodePresence({
      store: createInMemoryNodePresenceStore({ ttlMs: 60_000, nowMs: Date.now }),
      runtime: harness.runtime,
      nowMs: Date.now,
      silentAfterMs: 30_000,
      onChange: () => undefined,
    });
    const nodeServices = {
      runtime: harness.runtime,
      traffic: harness.traffic,
      presence,
      nowMs: Date.now,
    };
    catalogue = await createTestApp({
      routes: [
        planRoutes({
          runtime: harness.runtime,
          ledger: harness.ledger,
          catalogue: items,
          nowMs: Date.now,
        }),
        nodeRoutes(nodeServices),
        nodePresenceRoutes(nodeServices),
        webhookRoutes({
          store: createSqliteWebhookStore(openSqliteDatabase(':memory:')),
          sender: createHttpWebhookSender({
            allowedTargets: [],
            timeoutMs: 1000,
            responseBytesMax: 1024,
          }),
          newId: () => crypto.randomUUID(),
          endpointCountMax: 10,
          attemptCountMax: 10,
          wake: () => undefined,
        }),
      ],
    });
    const nodeKey = await catalogue.addClient('n-node-client', 'node');
    const keys = { admin: catalogue.keys.admin, merchant: catalogue.keys.merchant, node: nodeKey };
    const walkedCatalogue: Walked = { app: catalogue, keys, ids: {} };
    const setUp = async (key: string, body: object) => {
      const spec = CASES[key];
      expect(spec).toBeDefined();
      const path = spec?.path ?? '';
      const answer = await send(
        walkedCatalogue,
        'post',
        path,
        { ...spec?.body, ...body },
        spec?.key ?? 'admin',
      );
      expect(answer.status).toBe(201);
      return answer.body as { data: Record<string, unknown> };
    };
    await setUp('post /v1/plans', { planId: 'n-plan-retired' });
    await setUp('post /v1/nodes', {});
    walkedCatalogue.ids['endpoint'] = String(
      (await setUp('post /v1/webhook-endpoints', {})).data['endpointId'],
    );
    walks.push(walkedCatalogue);
  });
  afterAll(async () => {
    for (const stop of stops) await stop();
    await ledger.store.close();
  });

  it('never answers 5xx for a null optional field, and answers as the OpenAPI document says', async () => {
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const walked of walks) problems.push(...(await walkNulls(walked, seen)));
    expect(seen).toContain('post /v1/plans');
    // Every case was walked: none names an operation the apps do not have (or no longer have).
    expect(Object.keys(CASES).filter((key) => !seen.has(key))).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('documents null only where it is accepted: the risk rules turned off', async () => {
    const nullable = new Set<string>();
    for (const walked of walks)
      for (const operation of bodyOperations(await documentOf(walked.app)))
        for (const [field, schema] of Object.entries(operation.schema.properties ?? {}))
          if (mayBeNull(schema)) nullable.add(`${operation.key} ${field}`);
    expect([...nullable].sort()).toEqual(
      ['buyerVelocity', 'deviceVelocity', 'greyIpVelocity', 'ipVelocity'].map(
        (field) => `put /v1/risk-rules ${field}`,
      ),
    );
    const off = await send(walkedSale, 'put', '/v1/risk-rules', { buyerVelocity: null }, 'admin');
    expect([off.status, off.body.data.rules.buyerVelocity]).toEqual([200, null]);
  });

  it('never answers 5xx for an optional query parameter sent empty', async () => {
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const walked of walks) problems.push(...(await walkEmptyQueries(walked, seen)));
    expect(seen.size).toBeGreaterThan(5);
    expect(problems).toEqual([]);
  });
});
