import { createTestApp, bearer, type TestApp } from '../api/support/test-app';
import { eventually } from '../support/eventually';
import { scriptedGateway } from './support/scripted-gateway';
import {
  PLAN,
  openWallet,
  paidPayment,
  requestRefund,
  startSagaRig,
  waitForSaga,
  type SagaRig,
} from './support/saga-harness';

/** The saga list and plan purchase routes over a running saga host (in-process bus). */
describe('saga and plan routes', () => {
  let rig: SagaRig;
  let app: TestApp;
  let channelThrows = true;
  let idempotencyCounter = 0;
  const post = (path: string, body: object) => {
    idempotencyCounter += 1;
    return app
      .http()
      .post(path)
      .set(bearer(app.keys.admin))
      .set('Idempotency-Key', `k-${idempotencyCounter}`)
      .send(body);
  };
  const get = (path: string) => app.http().get(path).set(bearer(app.keys.admin));

  beforeAll(async () => {
    const gateway = scriptedGateway('sandbox', () => {
      if (channelThrows) throw new Error('channel adapter bug');
      return { ok: true };
    });
    rig = await startSagaRig({ gateway });
    app = await createTestApp({ routes: rig.routes });
    await openWallet(rig, 'buyer');
    await paidPayment(rig, 'pay-1', 'buyer', 2000);
  });
  afterAll(() => rig.stop());

  it('lists the plans PLANS_FILE seeded', async () => {
    const response = await eventually(
      async () => {
        const listed = await get('/v1/plans');
        return listed.body.data.plans.length > 0 ? listed : undefined;
      },
      { timeoutMs: 5000, what: 'the catalogue to list the seeded plan' },
    );
    expect(response.status).toBe(200);
    expect(response.body.data.plans).toEqual([
      expect.objectContaining({ ...PLAN, status: 'listed', retiredAt: null }),
    ]);
  });

  it('buys a plan: 202 with a status URL that shows the saga completed', async () => {
    const response = await post(`/v1/plans/${PLAN.planId}/purchases`, {
      purchaseId: 'buy-1',
      walletAccountId: 'buyer',
      userId: 'u1',
    });
    expect(response.status).toBe(202);
    expect(response.headers['location']).toBe('/v1/sagas/plan_purchase/buy-1');
    await waitForSaga(rig, 'plan_purchase', 'buy-1', ['completed']);
    const status = await get('/v1/sagas/plan_purchase/buy-1');
    expect(status.body.data.saga).toMatchObject({
      status: 'completed',
      steps: [
        { name: 'hold_funds', status: 'completed' },
        { name: 'grant_quota' },
        { name: 'capture' },
      ],
    });
  });

  it('answers unknown plans, sagas and wallets with 404, and a reused purchaseId with other terms with 409', async () => {
    expect(
      (
        await post('/v1/plans/nope/purchases', {
          purchaseId: 'x',
          walletAccountId: 'buyer',
          userId: 'u1',
        })
      ).body.code,
    ).toBe(40481);
    expect((await get('/v1/sagas/refund/none')).body.code).toBe(40480);
    expect(
      (
        await post(`/v1/plans/${PLAN.planId}/purchases`, {
          purchaseId: 'x2',
          walletAccountId: 'ghost',
          userId: 'u1',
        })
      ).body.code,
    ).toBe(40410);
    const reused = await post(`/v1/plans/${PLAN.planId}/purchases`, {
      purchaseId: 'buy-1',
      walletAccountId: 'buyer',
      userId: 'someone-else',
    });
    expect([reused.status, reused.body.code]).toEqual([409, 40981]);
  });

  it('dead-letters a saga whose step keeps throwing, lists it, and retries it to completion', async () => {
    await requestRefund(rig, 'pay-1', 'r1', 100);
    await waitForSaga(rig, 'refund', 'pay-1_r1', ['dead_lettered']);
    const listed = await get('/v1/sagas?status=dead_lettered&name=refund');
    expect(listed.body.data).toMatchObject({
      total_count: 1,
      sagas: [{ sagaId: 'pay-1_r1', currentStep: 'ask_channel' }],
    });
    expect(listed.body.data.sagas[0].steps[2].retryCount).toBeGreaterThan(0);
    channelThrows = false;
    const retried = await post('/v1/sagas/refund/pay-1_r1/retry', {});
    expect(retried.status).toBe(202);
    expect((await waitForSaga(rig, 'refund', 'pay-1_r1', ['completed'])).status).toBe('completed');
    const again = await post('/v1/sagas/refund/pay-1_r1/retry', {});
    expect([again.status, again.body.code]).toEqual([409, 40980]);
  });

  it('refuses the saga list to merchants and validates its filters', async () => {
    expect((await app.http().get('/v1/sagas').set(bearer(app.keys.merchant))).status).toBe(403);
    expect((await get('/v1/sagas?status=sleeping')).status).toBe(400);
  });
});
