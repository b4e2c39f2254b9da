import { requireScope } from '../../api/middleware/require-scope';
import { PassThrough } from 'node:stream';
import type { JSONSchemaType } from 'ajv';
import type { RouteRegistrar } from '../../api/route-kit';
import { sendOk } from '../../api/envelope';
import { clientOf } from '../../api/middleware/api-state';
import { startIdempotencyPurge } from '../../api/middleware/idempotency';
import { validateBody } from '../../api/middleware/validate';
import { createLogger } from '../../bin/logger';
import { amountMinorSchema } from '../../api/schemas/common.schema';
import { bearer, createTestApp, deferred } from './support/test-app';
import type { TestApp } from './support/test-app';

/** A scope every test client holds: these routes test something else. */
const anyRole = requireScope('catalog:read');

type CommandBody = { amountMinor: number };
const commandSchema: JSONSchemaType<CommandBody> = {
  type: 'object',
  properties: { amountMinor: amountMinorSchema },
  required: ['amountMinor'],
  additionalProperties: false,
};

/** What the command handler does on its next call; the default answers 201. */
type Behaviour = () => Promise<void> | void;

/** A POST command route whose behaviour each test scripts, counting executions. */
const commandRoutes =
  (script: { behaviours: Behaviour[]; executions: number }): RouteRegistrar =>
  ({ router, jsonBody, idempotency }) => {
    const body = validateBody(commandSchema);
    router.post('/test/commands', anyRole, jsonBody(), body, idempotency(), async (ctx) => {
      script.executions += 1;
      await script.behaviours.shift()?.();
      ctx.set('Location', `/v1/test/commands/${script.executions}`);
      ctx.set('X-Not-Replayed', 'volatile');
      sendOk(
        ctx,
        { execution: script.executions, by: clientOf(ctx).clientId, ...body.read(ctx) },
        201,
      );
    });
  };

const mailboxFull = (): never => {
  throw Object.defineProperty(new Error('mailbox full'), 'name', { value: 'MailboxFullError' });
};

describe('Idempotency-Key', () => {
  let script: { behaviours: Behaviour[]; executions: number };
  let api: TestApp;
  beforeEach(async () => {
    script = { behaviours: [], executions: 0 };
    api = await createTestApp({ routes: [commandRoutes(script)] });
  });

  const command = (
    target: TestApp,
    key: string | null,
    body: object,
    apiKey = target.keys.merchant,
  ) => {
    const pending = target.http().post('/v1/test/commands').set(bearer(apiKey));
    return key === null ? pending.send(body) : pending.set('Idempotency-Key', key).send(body);
  };

  it('replays the first response (status, body, Location) with Idempotent-Replayed', async () => {
    const first = await command(api, 'key-1', { amountMinor: 5 });
    const second = await command(api, 'key-1', { amountMinor: 5 });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers['location']).toBe('/v1/test/commands/1');
    expect(second.headers['x-not-replayed']).toBeUndefined();
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(script.executions).toBe(1);
  });

  it('answers 422 idempotency_key_reused for the same key with another body', async () => {
    await command(api, 'key-1', { amountMinor: 5 });
    const reused = await command(api, 'key-1', { amountMinor: 6 });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe(42201);
    expect(script.executions).toBe(1);
  });

  it('fingerprints the exact bytes: the same JSON spaced differently is another body', async () => {
    await command(api, 'key-1', { amountMinor: 5 });
    const respaced = await api
      .http()
      .post('/v1/test/commands')
      .set(bearer(api.keys.merchant))
      .set('Idempotency-Key', 'key-1')
      .type('application/json')
      .send('{ "amountMinor": 5 }');
    expect(respaced.status).toBe(422);
  });

  it('answers 409 idempotency_key_in_flight while the first request runs', async () => {
    const entered = deferred();
    const gate = deferred();
    script.behaviours.push(async () => {
      entered.resolve();
      await gate.promise;
    });
    const first = command(api, 'key-1', { amountMinor: 5 }).then((response) => response);
    try {
      await entered.promise;
      const concurrent = await command(api, 'key-1', { amountMinor: 5 });
      expect(concurrent.status).toBe(409);
      expect(concurrent.body.code).toBe(40902);
      expect(concurrent.headers['retry-after']).toBe('1');
    } finally {
      gate.resolve();
    }
    expect((await first).status).toBe(201);
    expect((await command(api, 'key-1', { amountMinor: 5 })).headers['idempotent-replayed']).toBe(
      'true',
    );
    expect(script.executions).toBe(1);
  });

  it("takes over a dead process's in-flight key; the first outcome stored wins", async () => {
    const gate = deferred();
    const entered = deferred();
    script.behaviours.push(async () => {
      entered.resolve();
      await gate.promise; // This process stands for one that crashed mid-request.
    });
    const stuck = command(api, 'key-1', { amountMinor: 5 }).then((response) => response);
    try {
      await entered.promise;
      const routes = [commandRoutes(script)];
      const next = await createTestApp({ routes, bootId: 'boot-next', sharing: api });
      expect((await command(api, 'key-1', { amountMinor: 5 })).status).toBe(409); // Live owner.
      const takenOver = await command(next, 'key-1', { amountMinor: 5 });
      expect(takenOver.status).toBe(201);
      expect(takenOver.body.data.execution).toBe(2);
      gate.resolve();
      expect((await stuck).status).toBe(201);
      const replay = await command(next, 'key-1', { amountMinor: 5 });
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body.data.execution).toBe(2);
    } finally {
      gate.resolve();
      await stuck;
    }
  });

  it('stores a 500 outcome and replays it without executing again', async () => {
    script.behaviours.push(() => {
      throw new Error('disk on fire');
    });
    const first = await command(api, 'key-1', { amountMinor: 5 });
    const second = await command(api, 'key-1', { amountMinor: 5 });
    expect(first.status).toBe(500);
    expect(second.status).toBe(500);
    expect(second.body).toEqual({ code: 50001, msg: 'internal error', data: null });
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(script.executions).toBe(1);
  });

  it('releases the key after a 503: the retry with the same key executes', async () => {
    script.behaviours.push(mailboxFull);
    const first = await command(api, 'key-1', { amountMinor: 5 });
    expect(first.status).toBe(503);
    expect(first.headers['retry-after']).toBe('1');
    const retry = await command(api, 'key-1', { amountMinor: 5 });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(script.executions).toBe(2);
  });

  it('scopes keys per client: two clients may use the same key', async () => {
    const mine = await command(api, 'key-1', { amountMinor: 5 }, api.keys.merchant);
    const theirs = await command(api, 'key-1', { amountMinor: 5 }, api.keys.merchant2);
    expect(mine.body.data.by).toBe('merchant');
    expect(theirs.status).toBe(201);
    expect(theirs.body.data.by).toBe('merchant2');
    expect(script.executions).toBe(2);
  });

  it('consumes no key when validation refuses the body', async () => {
    expect((await command(api, 'key-1', { amountMinor: 0 })).status).toBe(400);
    const valid = await command(api, 'key-1', { amountMinor: 5 });
    expect(valid.status).toBe(201);
    expect(valid.headers['idempotent-replayed']).toBeUndefined();
  });

  it('requires the header and refuses a malformed key', async () => {
    const missing = await command(api, null, { amountMinor: 5 });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe(40003);
    const tooLong = await command(api, 'k'.repeat(256), { amountMinor: 5 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.code).toBe(40004);
    expect((await command(api, 'key-\u00e9', { amountMinor: 5 })).body.code).toBe(40004);
    expect((await command(api, 'k'.repeat(255), { amountMinor: 5 })).status).toBe(201);
    expect(script.executions).toBe(1);
  });
});

describe('startIdempotencyPurge', () => {
  afterEach(() => jest.useRealTimers());

  it('purges keys older than the retention on every tick until stopped', async () => {
    jest.useFakeTimers();
    const cutoffs: number[] = [];
    const store = {
      begin: jest.fn(),
      complete: jest.fn(),
      release: jest.fn(),
      purgeOlderThan: async (createdBeforeMs: number) => {
        cutoffs.push(createdBeforeMs);
        return 0;
      },
    };
    const logger = createLogger('error', { stream: new PassThrough() });
    const stop = startIdempotencyPurge({
      store,
      retentionMs: 1000,
      intervalMs: 60_000,
      nowMs: () => 50_000,
      logger,
    });
    jest.advanceTimersByTime(120_000);
    stop();
    jest.advanceTimersByTime(600_000);
    expect(cutoffs).toEqual([49_000, 49_000]);
  });
});
