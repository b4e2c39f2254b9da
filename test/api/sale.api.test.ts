import { purchaseCommands } from '../../domain/item/item-sale';
import { auditBalances, testContext } from '../support/ledger-harness';
import { eventually } from '../support/eventually';
import { createSaleApp, type SaleApp } from './support/sale-app';

const START_MS = Date.parse('2026-12-06T10:00:00.000Z');
const MINUTE_MS = 60_000;
const at = (offsetMs: number) => new Date(START_MS + offsetMs).toISOString();

const itemBody = (overrides: Record<string, unknown> = {}) => ({
  itemId: 'phone',
  name: 'Phone',
  priceMinor: 19_900,
  currency: 'EUR',
  stockUnits: 3,
  startsAt: at(MINUTE_MS),
  endsAt: at(60 * MINUTE_MS),
  holdTimeoutMs: 10 * MINUTE_MS,
  ...overrides,
});

let app: SaleApp;
beforeEach(async () => {
  app = await createSaleApp(START_MS);
});
afterEach(async () => {
  await app.stop();
});

const createItem = async (overrides: Record<string, unknown> = {}) => {
  const response = await app.post('/v1/items', itemBody(overrides), app.keys.admin);
  expect(response.status).toBe(201);
  return response;
};
const buy = (buyerId: string, extra: Record<string, unknown> = {}, itemId = 'phone') =>
  app.post(`/v1/items/${itemId}/purchases`, { buyerId, ...extra }, app.keys.merchant);
const stock = async (itemId = 'phone') =>
  (await app.get(`/v1/items/${itemId}`, app.keys.merchant)).body.data.item.stock;

describe('the catalogue', () => {
  it('creates an item with its stock and lists it for clients', async () => {
    const created = await createItem();
    expect(created.body.data.item).toMatchObject({
      itemId: 'phone',
      status: 'listed',
      holdTimeoutMs: 10 * MINUTE_MS,
      stock: { availableUnits: 3, heldUnits: 0, soldUnits: 0, restockedUnits: 3 },
    });
    await eventually(
      async () => {
        const listed = await app.get('/v1/items', app.keys.merchant);
        return listed.body.data.total_count === 1 ? listed.body.data.items : undefined;
      },
      { timeoutMs: 5000, what: 'the item in the list' },
    );
  });

  it('takes a 15-minute hold timeout by default', async () => {
    const { holdTimeoutMs: _omitted, ...body } = itemBody();
    const created = await app.post('/v1/items', body, app.keys.admin);
    expect(created.body.data.item.holdTimeoutMs).toBe(15 * MINUTE_MS);
  });

  it.each([
    ['a negative stock', { stockUnits: -1 }, 'stockUnits'],
    ['a price in floats', { priceMinor: 19.9 }, 'priceMinor'],
    ['an unknown currency', { currency: 'EURO' }, 'currency'],
    ['a start that is no instant', { startsAt: 'tomorrow' }, 'startsAt'],
    ['a hold timeout under 10 s', { holdTimeoutMs: 1000 }, 'holdTimeoutMs'],
    ['a null hold timeout (absent takes the default)', { holdTimeoutMs: null }, 'holdTimeoutMs'],
  ])('answers 400 naming the field for %s', async (_what, overrides, field) => {
    const response = await app.post('/v1/items', itemBody(overrides), app.keys.admin);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe(40001);
    expect(JSON.stringify(response.body)).toContain(field);
  });

  it('refuses a start not in the future and an end not after the start', async () => {
    const past = await app.post('/v1/items', itemBody({ startsAt: at(0) }), app.keys.admin);
    expect([past.status, past.body.code]).toEqual([422, 42230]);
    const end = await app.post('/v1/items', itemBody({ endsAt: at(MINUTE_MS) }), app.keys.admin);
    expect([end.status, end.body.code]).toEqual([422, 42231]);
  });

  it('dedupes a duplicate submit by Idempotency-Key, and refuses the id with other terms', async () => {
    const first = await app.post('/v1/items', itemBody(), app.keys.admin, 'create-phone');
    const again = await app.post('/v1/items', itemBody(), app.keys.admin, 'create-phone');
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await stock()).restockedUnits).toBe(3);
    const other = await app.post('/v1/items', itemBody({ priceMinor: 1 }), app.keys.admin);
    expect([other.status, other.body.code, other.body.data.field]).toEqual([
      409,
      40930,
      'priceMinor',
    ]);
  });

  it('lets only admins create, update, retire and restock', async () => {
    const response = await app.post('/v1/items', itemBody(), app.keys.merchant);
    expect(response.status).toBe(403);
  });

  it('updates before the start, refuses a price change once the sale started', async () => {
    await createItem();
    const cheaper = await app
      .http()
      .patch('/v1/items/phone')
      .set('Authorization', `Bearer ${app.keys.admin}`)
      .set('Idempotency-Key', 'patch-1')
      .send({ priceMinor: 9_900 });
    expect([cheaper.status, cheaper.body.data.item.priceMinor]).toEqual([200, 9_900]);
    app.clock.nowMs = START_MS + 2 * MINUTE_MS;
    const late = await app
      .http()
      .patch('/v1/items/phone')
      .set('Authorization', `Bearer ${app.keys.admin}`)
      .set('Idempotency-Key', 'patch-2')
      .send({ priceMinor: 100 });
    expect([late.status, late.body.code]).toEqual([409, 40932]);
  });

  it('restocks once per restockId and refuses purchases of a retired item', async () => {
    await createItem();
    const body = { restockId: 'r1', units: 2 };
    expect((await app.post('/v1/items/phone/restocks', body, app.keys.admin)).status).toBe(201);
    expect((await app.post('/v1/items/phone/restocks', body, app.keys.admin)).status).toBe(200);
    expect(await stock()).toMatchObject({ availableUnits: 5, restockedUnits: 5 });
    const retired = await app.post('/v1/items/phone/retire', {}, app.keys.admin);
    expect(retired.body.data.item.status).toBe('retired');
    app.clock.nowMs = START_MS + 2 * MINUTE_MS;
    const refused = await buy('late');
    expect([refused.status, refused.body.code]).toEqual([409, 40931]);
  });

  it('answers 404 for an unknown item', async () => {
    const response = await app.get('/v1/items/nope', app.keys.merchant);
    expect([response.status, response.body.code]).toEqual([404, 40430]);
    const purchase = await buy('b1', {}, 'nope');
    expect([purchase.status, purchase.body.code]).toEqual([404, 40430]);
  });
});

describe('the sale', () => {
  it('refuses before the start, sells 3 units to 3 buyers, then sold out, one per buyer, ended', async () => {
    await createItem();
    const early = await buy('alice');
    expect([early.status, early.body.code]).toEqual([422, 42232]);

    app.clock.nowMs = START_MS + 2 * MINUTE_MS;
    for (const buyer of ['alice', 'bob', 'carol']) {
      const held = await buy(buyer);
      expect(held.status).toBe(201);
      expect(held.body.data.order).toMatchObject({ buyerId: buyer, status: 'held' });
      expect(held.body.data.payment).toMatchObject({
        status: 'pending',
        amountMinor: 19_900,
        currency: 'EUR',
        expiresAt: at(11 * MINUTE_MS), // The hold's expiry (12 min) less the settlement grace.
      });
    }
    const fourth = await buy('dave');
    expect([fourth.status, fourth.body.code]).toEqual([422, 42234]);
    const repeat = await buy('alice');
    expect([repeat.status, repeat.body.code]).toEqual([409, 40933]);
    expect(await stock()).toEqual({
      availableUnits: 0,
      heldUnits: 3,
      soldUnits: 0,
      restockedUnits: 3,
    });

    const order = await app.get('/v1/items/phone/purchases/alice', app.keys.merchant);
    expect(order.body.data.order).toMatchObject({ status: 'held', buyerId: 'alice' });
    expect(order.body.data.payment.status).toBe('pending');
    const other = await app.get('/v1/items/phone/purchases/alice', app.keys.merchant2);
    expect(other.status).toBe(404);
    await eventually(
      async () => {
        const orders = await app.get('/v1/buyers/alice/orders', app.keys.merchant);
        return orders.body.data.orders.length === 1 ? true : undefined;
      },
      { timeoutMs: 5000, what: "alice's order listed" },
    );

    app.clock.nowMs = START_MS + 60 * MINUTE_MS;
    const ended = await buy('erin');
    expect([ended.status, ended.body.code]).toEqual([422, 42233]);
  });

  it('refuses a second purchase for the same buyer by another merchant', async () => {
    await createItem();
    app.clock.nowMs = START_MS + 2 * MINUTE_MS;
    expect((await buy('alice')).status).toBe(201);
    const other = await app.post(
      '/v1/items/phone/purchases',
      { buyerId: 'alice' },
      app.keys.merchant2,
    );
    expect([other.status, other.body.code]).toEqual([409, 40933]);
    expect((await stock()).heldUnits).toBe(1);
  });

  it('replays a retried purchase with the same Idempotency-Key instead of refusing it', async () => {
    await createItem();
    app.clock.nowMs = START_MS + 2 * MINUTE_MS;
    const path = '/v1/items/phone/purchases';
    const first = await app.post(path, { buyerId: 'alice' }, app.keys.merchant, 'buy-alice');
    const retry = await app.post(path, { buyerId: 'alice' }, app.keys.merchant, 'buy-alice');
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.data.order).toEqual(first.body.data.order);
  });

  it('re-creates the payment of a hold left without one (a crash between the two) on a repeat', async () => {
    await createItem();
    app.clock.nowMs = START_MS + 2 * MINUTE_MS;
    const party = { buyerId: 'alice', merchantId: 'merchant', channel: 'sandbox' as const };
    const terms = { itemId: 'phone', holdTimeoutMs: 10 * MINUTE_MS };
    await app.harness.ledger.execute({
      commands: purchaseCommands(terms, party),
      context: testContext({ now: at(2 * MINUTE_MS) }),
      idempotency: null,
    });
    const before = await app.get('/v1/items/phone/purchases/alice', app.keys.merchant);
    expect([before.body.data.order.status, before.body.data.payment]).toEqual(['held', null]);
    const repeat = await buy('alice');
    expect(repeat.body.code).toBe(40933);
    const after = await app.get('/v1/items/phone/purchases/alice', app.keys.merchant);
    expect(after.body.data.payment).toMatchObject({
      status: 'pending',
      amountMinor: 19_900,
      expiresAt: at(11 * MINUTE_MS), // The hold's expiry (12 min) less the settlement grace.
    });
  });

  it('returns an unpaid unit to stock when its hold expires; another buyer gets it', async () => {
    await createItem({ stockUnits: 1 });
    app.clock.nowMs = START_MS + 2 * MINUTE_MS;
    expect((await buy('alice')).status).toBe(201);
    expect((await buy('bob')).body.code).toBe(42234);
    app.clock.nowMs = START_MS + 12 * MINUTE_MS;
    await app.expireDue(1);
    expect(await stock()).toMatchObject({ availableUnits: 1, heldUnits: 0, soldUnits: 0 });
    const order = await app.get('/v1/items/phone/purchases/alice', app.keys.merchant);
    expect(order.body.data.order.status).toBe('voided');
    expect((await buy('bob')).status).toBe(201);
    // Sold out again: alice had her one purchase (voided: the catalogue knows it), bob holds
    // his (pending on the stock account), carol has none.
    expect((await buy('alice')).body.code).toBe(40933);
    expect((await buy('bob')).body.code).toBe(40933);
    expect((await buy('carol')).body.code).toBe(42234);
  });

  it('never oversells under concurrent buyers: exactly the stock is held, Σ = 0 per unit', async () => {
    await createItem({ stockUnits: 5 });
    app.clock.nowMs = START_MS + 2 * MINUTE_MS;
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, index) => buy(`buyer-${index % 50}`)),
    );
    const statuses = answers.map((answer) => answer.body.code as number);
    expect(statuses.filter((code) => code === 0)).toHaveLength(5);
    expect(statuses.filter((code) => ![0, 42234, 40933].includes(code))).toEqual([]);
    expect(await stock()).toMatchObject({ availableUnits: 0, heldUnits: 5 });
    const report = await auditBalances(app.harness.store);
    const units = report.currencies.find((totals) => totals.currency === 'unit:phone');
    expect(units).toBeDefined();
    expect(units && units.creditsPostedMinor - units.debitsPostedMinor).toBe(0n);
    expect(units && units.creditsPendingMinor - units.debitsPendingMinor).toBe(0n);
  });

  it('answers 400 for a bad buyer id or IP', async () => {
    await createItem();
    const badId = await buy('not ok!');
    expect([badId.status, JSON.stringify(badId.body)]).toEqual([
      400,
      expect.stringContaining('buyerId'),
    ]);
    const badIp = await buy('alice', { buyerIp: '999.1.1.1' });
    expect(badIp.status).toBe(400);
  });
});

describe('risk rules', () => {
  const putRules = (rules: unknown, key = app.keys.admin) =>
    app
      .http()
      .put('/v1/risk-rules')
      .set('Authorization', `Bearer ${key}`)
      .send(rules as object);

  beforeEach(async () => {
    await createItem({ stockUnits: 100 });
    app.clock.nowMs = START_MS + 2 * MINUTE_MS;
  });

  it('stores the rules (admins only), reads them back, and refuses contradictory ones', async () => {
    const rules = { buyerVelocity: { windowMs: 60_000, attemptsMax: 2 }, ipGreyList: ['10.0.0.7'] };
    expect((await putRules(rules, app.keys.merchant)).status).toBe(403);
    expect((await putRules(rules)).status).toBe(200);
    const read = await app.get('/v1/risk-rules', app.keys.admin);
    expect(read.body.data.rules).toMatchObject(rules);
    const bad = await putRules({ ipAllowList: ['10.0.0.1'], ipDenyList: ['10.0.0.1'] });
    expect([bad.status, bad.body.data.field]).toEqual([400, 'ipAllowList']);
    const invalid = await putRules({ ipVelocity: { windowMs: 0, attemptsMax: 1 } });
    expect(invalid.status).toBe(400);
  });

  it('refuses a buyer over the velocity limit with 70002, recorded for audit, until the window passes', async () => {
    await putRules({ buyerVelocity: { windowMs: 60_000, attemptsMax: 2 } });
    expect((await buy('mallory')).status).toBe(201);
    expect((await buy('mallory')).body.code).toBe(40933);
    const refused = await buy('mallory');
    expect([refused.status, refused.body.code]).toEqual([429, 70002]);
    expect(app.audited).toContainEqual({
      kind: 'rejected_command',
      detail: expect.objectContaining({ rejection: 'risk_buyer_velocity', code: 70002 }),
    });
    const recorded = await app.harness.store.readStream('riskrefusals-mallory', {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(recorded.map((event) => [event.type, event.data['code'], event.data['limit']])).toEqual([
      ['RiskRefused', 70002, 2],
    ]);
    app.clock.nowMs += 60_001;
    expect((await buy('mallory')).body.code).toBe(40933);
  });

  it('refuses per IP (70003), per device (70005), a denied IP (70001) and a grey IP sooner (70004)', async () => {
    await putRules({
      ipVelocity: { windowMs: 60_000, attemptsMax: 3 },
      greyIpVelocity: { windowMs: 60_000, attemptsMax: 1 },
      deviceVelocity: { windowMs: 60_000, attemptsMax: 2 },
      ipDenyList: ['10.0.0.66'],
      ipGreyList: ['10.0.0.7'],
    });
    const fromIp = (buyer: string, ip: string) => buy(buyer, { buyerIp: ip });
    const ipCodes = [];
    for (const buyer of ['i1', 'i2', 'i3', 'i4'])
      ipCodes.push((await fromIp(buyer, '10.0.0.5')).body.code);
    expect(ipCodes).toEqual([0, 0, 0, 70003]);
    const greyCodes = [
      (await fromIp('g1', '10.0.0.7')).body.code,
      (await fromIp('g2', '10.0.0.7')).body.code,
    ];
    expect(greyCodes).toEqual([0, 70004]);
    const denied = await fromIp('d1', '10.0.0.66');
    expect([denied.status, denied.body.code]).toEqual([403, 70001]);
    const device = (buyer: string) =>
      buy(buyer, { deviceId: 'dev-1', buyerIp: `10.1.0.${buyer.length}` });
    const deviceCodes = [];
    for (const buyer of ['v', 'vv', 'vvv']) deviceCodes.push((await device(buyer)).body.code);
    expect(deviceCodes).toEqual([0, 0, 70005]);
  });

  it('refuses a buyer over the daily amount (70006), per currency', async () => {
    await createItem({ itemId: 'case', priceMinor: 1_000, startsAt: at(3 * MINUTE_MS) });
    app.clock.nowMs = START_MS + 4 * MINUTE_MS;
    await putRules({ buyerDailyAmounts: [{ currency: 'EUR', amountMinorMax: 20_000 }] });
    expect((await buy('spender')).status).toBe(201); // 19,900 EUR
    const over = await buy('spender', {}, 'case'); // + 1,000 > 20,000
    expect([over.status, over.body.code]).toEqual([403, 70006]);
    expect((await buy('thrifty', {}, 'case')).status).toBe(201);
  });

  it('lets one of two concurrent purchases by a buyer through when both would pass the daily amount alone', async () => {
    const startsAt = at(3 * MINUTE_MS);
    await createItem({ itemId: 'left', priceMinor: 15_000, startsAt });
    await createItem({ itemId: 'right', priceMinor: 15_000, startsAt });
    app.clock.nowMs = START_MS + 4 * MINUTE_MS;
    await putRules({ buyerDailyAmounts: [{ currency: 'EUR', amountMinorMax: 20_000 }] });
    const answers = await Promise.all([
      buy('racer', {}, 'left'),
      buy('racer', {}, 'right'),
      buy('racer', {}, 'phone'),
    ]);
    const codes = answers.map((answer) => answer.body.code).sort((a, b) => a - b);
    expect(codes).toEqual([0, 70006, 70006]);
    const held = await Promise.all(['left', 'right', 'phone'].map((itemId) => stock(itemId)));
    expect(held.reduce((sum, entry) => sum + entry.heldUnits, 0)).toBe(1);
  });

  it('releases the daily amount a sold-out attempt reserved, and counts a repeat once', async () => {
    await createItem({
      itemId: 'gone',
      priceMinor: 5_000,
      stockUnits: 0,
      startsAt: at(3 * MINUTE_MS),
    });
    await createItem({ itemId: 'case', priceMinor: 10_000, startsAt: at(3 * MINUTE_MS) });
    app.clock.nowMs = START_MS + 4 * MINUTE_MS;
    await putRules({ buyerDailyAmounts: [{ currency: 'EUR', amountMinorMax: 20_000 }] });
    expect((await buy('saver', {}, 'gone')).body.code).toBe(42234);
    expect((await buy('saver', {}, 'case')).status).toBe(201);
    expect((await buy('saver', {}, 'case')).body.code).toBe(40933);
    // 10,000 held; the sold-out 5,000 and the repeat 10,000 are not counted: 19,900 is over.
    expect((await buy('saver')).body.code).toBe(70006);
    await app.post('/v1/items/gone/restocks', { restockId: 'r1', units: 1 }, app.keys.admin);
    expect((await buy('saver', {}, 'gone')).status).toBe(201); // 15,000 ≤ 20,000
  });
});
