import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { seedPlans } from '../../bin/sale';
import { assert } from '../../domain/assert';
import { sagaAggregate, sagaKey } from '../../domain/saga/saga.decider';
import { createLedger } from '../support/ledger-harness';
import { eventually } from '../support/eventually';
import {
  PLAN,
  openWallet,
  paidPayment,
  startSagaRig,
  waitForSaga,
  type SagaRig,
} from '../sagas/support/saga-harness';
import { bearer, createTestApp, type TestApp } from './support/test-app';

/** The plan catalogue: admins create, update and retire plans; PLANS_FILE seeds it once. */
describe('the plan catalogue', () => {
  let rig: SagaRig;
  let app: TestApp;
  let keyCounter = 0;
  const send = (method: 'post' | 'patch', path: string, body: object, key?: string) => {
    keyCounter += 1;
    return app
      .http()
      [method](path)
      .set(bearer(key ?? app.keys.admin))
      .set('Idempotency-Key', `plan-key-${keyCounter}`)
      .send(body);
  };
  const get = (path: string) => app.http().get(path).set(bearer(app.keys.merchant));
  const premium = {
    planId: 'premium',
    name: 'Premium',
    amountMinor: 1500,
    currency: 'EUR',
    quotaBytes: 50_000,
    durationDays: 90,
    level: 3,
    group: 'vip',
  };
  const buy = (planId: string, purchaseId: string) =>
    send('post', `/v1/plans/${planId}/purchases`, {
      purchaseId,
      walletAccountId: 'buyer',
      userId: 'u1',
    });
  const sagaInput = async (purchaseId: string) =>
    (await rig.runtime.read(sagaAggregate, sagaKey('plan_purchase', purchaseId))).state;

  beforeAll(async () => {
    rig = await startSagaRig();
    app = await createTestApp({ routes: rig.routes });
    await openWallet(rig, 'buyer');
    await paidPayment(rig, 'pay-1', 'buyer', 20_000);
  });
  afterAll(() => rig.stop());

  it('creates a plan (admins only), answers a repeat as it is and refuses the id with other terms', async () => {
    expect((await send('post', '/v1/plans', premium, app.keys.merchant)).status).toBe(403);
    const created = await send('post', '/v1/plans', premium);
    expect(created.status).toBe(201);
    expect(created.headers['location']).toBe('/v1/plans/premium');
    expect(created.body.data.plan).toMatchObject({ ...premium, status: 'listed' });
    expect((await send('post', '/v1/plans', premium)).status).toBe(200);
    const other = await send('post', '/v1/plans', { ...premium, amountMinor: 1600 });
    expect([other.status, other.body.code, other.body.data.field]).toEqual([
      409,
      40982,
      'amountMinor',
    ]);
  });

  it('replays a duplicate submit with the same Idempotency-Key', async () => {
    const body = { ...premium, planId: 'weekly', durationDays: 7 };
    const first = await app
      .http()
      .post('/v1/plans')
      .set(bearer(app.keys.admin))
      .set('Idempotency-Key', 'weekly-once')
      .send(body);
    const again = await app
      .http()
      .post('/v1/plans')
      .set(bearer(app.keys.admin))
      .set('Idempotency-Key', 'weekly-once')
      .send(body);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toEqual(first.body);
  });

  it.each([
    ['amountMinor', { amountMinor: 0 }],
    ['currency', { currency: 'XXY' }],
    ['level', { level: 256 }],
    ['durationDays', { durationDays: 3661 }],
    ['quotaBytes', { quotaBytes: 1.5 }],
    ['planId', { planId: 'has space' }],
  ])('refuses a bad %s with 400 naming it', async (field, change) => {
    const response = await send('post', '/v1/plans', { ...premium, planId: 'bad', ...change });
    expect([response.status, response.body.data.field]).toEqual([400, field]);
  });

  it('refuses a plan without a duration, with both, or with a null one, naming the field', async () => {
    const { durationDays: _days, ...noDuration } = { ...premium, planId: 'no-duration' };
    const cases: [object, string][] = [
      [noDuration, 'durationDays'],
      [{ ...noDuration, durationDays: 7, durationSeconds: 60 }, 'durationSeconds'],
      [{ ...noDuration, durationSeconds: 0 }, 'durationSeconds'],
      [{ ...noDuration, durationSeconds: 1.5 }, 'durationSeconds'],
      [{ ...noDuration, durationDays: null }, 'durationDays'],
    ];
    for (const [body, field] of cases) {
      const response = await send('post', '/v1/plans', body);
      expect([response.status, response.body]).toEqual([400, expect.anything()]);
      expect([response.status, response.body.code, response.body.data.field]).toEqual([
        400,
        40001,
        field,
      ]);
    }
    const both = await send('patch', '/v1/plans/premium', { durationDays: 1, durationSeconds: 60 });
    expect([both.status, both.body.data.field]).toEqual([400, 'durationSeconds']);
  });

  it('sells a pass of 60 seconds: the expiry is 60 s after the purchase; a PATCH switches the unit', async () => {
    const { durationDays: _days, ...terms } = premium;
    const pass = { ...terms, planId: 'trial-60s', durationSeconds: 60, level: 1 };
    const created = await send('post', '/v1/plans', pass);
    expect(created.status).toBe(201);
    expect(created.body.data.plan).toMatchObject({ durationSeconds: 60 });
    expect(created.body.data.plan).not.toHaveProperty('durationDays');
    expect((await buy('trial-60s', 'trial-1')).status).toBe(202);
    const saga = await waitForSaga(rig, 'plan_purchase', 'trial-1', ['completed']);
    assert(saga.status !== 'none', 'a completed saga');
    expect(saga.input).toMatchObject({ durationSeconds: 60 });
    expect(saga.input).not.toHaveProperty('durationDays');
    // The grant decides the expiry: 60 s after the grant, which follows the request.
    const granted = saga.steps[1]?.output ?? {};
    const expiresInMs =
      Date.parse(String(granted['expiresAt'])) - Date.parse(String(saga.input['requestedAt']));
    expect(granted['level']).toBe(1);
    expect(expiresInMs).toBeGreaterThanOrEqual(60_000);
    expect(expiresInMs).toBeLessThan(70_000);
    const days = await send('patch', '/v1/plans/trial-60s', { durationDays: 2 });
    expect(days.body.data.plan).toMatchObject({ durationDays: 2 });
    expect(days.body.data.plan).not.toHaveProperty('durationSeconds');
    const seconds = await send('patch', '/v1/plans/trial-60s', { durationSeconds: 90 });
    expect(seconds.body.data.plan).toMatchObject({ durationSeconds: 90 });
    expect(seconds.body.data.plan).not.toHaveProperty('durationDays');
  });

  it('lists plans for clients and reads one; 404 for an unknown plan', async () => {
    await send('post', '/v1/plans', { ...premium, planId: 'listed-one' });
    const listed = await eventually(
      async () => {
        const response = await get('/v1/plans');
        const ids = response.body.data.plans.map((plan: { planId: string }) => plan.planId);
        return ids.includes('listed-one') ? ids : undefined;
      },
      { timeoutMs: 5000, what: 'the catalogue to list the new plan' },
    );
    expect(listed).toEqual(expect.arrayContaining([PLAN.planId, 'listed-one']));
    expect((await get('/v1/plans/listed-one')).body.data.plan).toMatchObject({ level: 3 });
    expect((await get('/v1/plans/nope')).body.code).toBe(40481);
  });

  it('sells a plan at its updated terms; a purchase started before keeps its own', async () => {
    await send('post', '/v1/plans', { ...premium, planId: 'changing' });
    expect((await buy('changing', 'before-change')).status).toBe(202);
    const updated = await send('patch', '/v1/plans/changing', { amountMinor: 2500, level: 4 });
    expect([updated.status, updated.body.data.plan.amountMinor]).toEqual([200, 2500]);
    expect((await buy('changing', 'after-change')).status).toBe(202);
    await waitForSaga(rig, 'plan_purchase', 'after-change', ['completed']);
    const before = await sagaInput('before-change');
    const after = await sagaInput('after-change');
    expect(before.status !== 'none' && before.input).toMatchObject({ amountMinor: 1500, level: 3 });
    expect(after.status !== 'none' && after.input).toMatchObject({ amountMinor: 2500, level: 4 });
    expect((await send('patch', '/v1/plans/nope', { name: 'x' })).body.code).toBe(40481);
    expect((await send('patch', '/v1/plans/changing', { level: -1 })).status).toBe(400);
  });

  it('stops selling a retired plan; a retired plan is no longer updated', async () => {
    await send('post', '/v1/plans', { ...premium, planId: 'old' });
    const retired = await send('post', '/v1/plans/old/retire', { reason: 'replaced' });
    expect(retired.body.data.plan).toMatchObject({ status: 'retired' });
    const refused = await buy('old', 'too-late');
    expect([refused.status, refused.body.code]).toEqual([409, 40983]);
    expect((await send('patch', '/v1/plans/old', { name: 'New' })).body.code).toBe(40983);
    const listed = await eventually(
      async () => {
        const response = await get('/v1/plans?status=retired');
        return response.body.data.plans.length > 0 ? response.body.data.plans : undefined;
      },
      { timeoutMs: 5000, what: 'the retired plan in the list' },
    );
    expect(listed.map((plan: { planId: string }) => plan.planId)).toEqual(['old']);
  });
});

describe('seeding from PLANS_FILE', () => {
  const warnings: { message: string; fields: Record<string, unknown> }[] = [];
  const logger = {
    info: () => undefined,
    warn: (message: string, fields: Record<string, unknown>) =>
      void warnings.push({ message, fields }),
  };

  it('seeds once: a restart neither re-seeds nor duplicates, and an edited file is named, not applied', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    const { runtime } = createLedger(store);
    const seed = (plans: (typeof PLAN)[]) =>
      seedPlans({ runtime, plans, nowMs: Date.now(), logger });
    expect(await seed([PLAN])).toBe('seeded');
    expect(await seed([PLAN])).toBe('already_seeded');
    expect(warnings).toEqual([]);
    expect(
      await seed([
        { ...PLAN, amountMinor: 1 },
        { ...PLAN, planId: 'added' },
      ]),
    ).toBe('already_seeded');
    expect(warnings).toEqual([
      expect.objectContaining({
        message: 'plans_file_ignored',
        fields: expect.objectContaining({ planIds: [PLAN.planId, 'added'] }),
      }),
    ]);
    const events = await store.readStream(`plan-${PLAN.planId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(events.map((event) => [event.type, event.data['amountMinor']])).toEqual([
      ['PlanCreated', PLAN.amountMinor],
    ]);
    expect(
      await store.readStream('plan-added', {
        fromRevision: 0,
        direction: 'forwards',
        eventCountMax: 1,
      }),
    ).toEqual([]);
  });
});
