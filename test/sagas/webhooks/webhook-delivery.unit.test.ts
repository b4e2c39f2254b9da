import { createHmac } from 'node:crypto';
import { merchantSecretIdOf } from '../../../domain/webhook/webhook.model';
import { eventually } from '../../support/eventually';
import { DAY_MS, HOUR_MS, startWebhookRig } from './webhook-rig';

const PAYMENT_ID = '0191a1b2-0000-7000-8000-000000000001';
const failing = () => ({ ok: false as const, httpStatus: 500, error: 'HTTP 500' });

type Rig = Awaited<ReturnType<typeof startWebhookRig>>;

/** Waits until the fan-out stored `count` deliveries (a positive signal, never a sleep). */
const enqueued = (rig: Rig, count: number) =>
  eventually(() => (rig.enqueuedCount() >= count ? true : undefined), {
    timeoutMs: 5000,
    what: `${count} enqueue(s)`,
  });

const deliveriesOf = async (rig: Rig, eventId: string) =>
  rig.webhooks.deliveriesOfEvent(eventId, 100);

const eventIdOf = (body: string): string => (JSON.parse(body) as { id: string }).id;

describe('webhook fan-out and delivery', () => {
  let rig: Rig;
  afterEach(async () => rig.stop());

  it('shows the merchant a payment found paid by query as recovered', async () => {
    rig = await startWebhookRig();
    await rig.addEndpoint({ eventTypes: ['payment.succeeded'] });
    await rig.payPayment(PAYMENT_ID, { recovered: true });
    await enqueued(rig, 1);
    await rig.deliver();
    const body = JSON.parse(rig.sent[0]?.body ?? '{}') as { data: { object: object } };
    expect(body.data.object).toMatchObject({ status: 'succeeded', recovered: true });
  });

  it('sends payment.succeeded once to each subscribed endpoint, signed, with the event id', async () => {
    rig = await startWebhookRig();
    await rig.addEndpoint({ eventTypes: ['payment.succeeded'] });
    await rig.addEndpoint({ eventTypes: ['payment.failed'] }); // Not subscribed: nothing.
    await rig.addEndpoint({ eventTypes: ['payment.succeeded'], merchantId: 'other' });
    await rig.payPayment(PAYMENT_ID);
    await enqueued(rig, 1);
    await rig.deliver();

    expect(rig.sent).toHaveLength(1);
    const [request] = rig.sent;
    const body = JSON.parse(request?.body ?? '{}') as {
      id: string;
      type: string;
      data: { object: { paymentId: string; status: string } };
    };
    expect(body.type).toBe('payment.succeeded');
    expect(body.data.object).toMatchObject({ paymentId: PAYMENT_ID, status: 'succeeded' });
    expect(request?.headers['webhook-id']).toBe(body.id);
    const timestampS = Math.floor(rig.nowMs() / 1000);
    const expected = createHmac('sha256', 'whsec_current')
      .update(`${timestampS}.${request?.body ?? ''}`)
      .digest('hex');
    expect(request?.headers['webhook-signature']).toBe(`t=${timestampS},v1=${expected}`);
    const [delivery] = await deliveriesOf(rig, body.id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: [{ httpStatus: 200 }] });
    // The payment's state was folded event by event as the fan-out followed the log: no read.
    expect(rig.paymentStreamReads()).toBe(0);
  });

  it("sends each payment's events only to the merchant's endpoints of the payment's mode", async () => {
    rig = await startWebhookRig();
    const eventTypes = ['payment.succeeded'] as const;
    await rig.addEndpoint({ eventTypes, mode: 'test', url: 'https://test.example/hooks' });
    await rig.addEndpoint({ eventTypes, mode: 'live', url: 'https://live.example/hooks' });
    await rig.payPayment(PAYMENT_ID);
    await rig.payPayment('0191a1b2-0000-7000-8000-000000000002', { mode: 'live' });
    await enqueued(rig, 2);
    await rig.deliver();

    const sentTo = rig.sent.map((request) => ({
      url: request.url,
      mode: (JSON.parse(request.body) as { mode: string }).mode,
    }));
    expect(sentTo).toEqual(
      expect.arrayContaining([
        { url: 'https://test.example/hooks', mode: 'test' },
        { url: 'https://live.example/hooks', mode: 'live' },
      ]),
    );
    expect(sentTo).toHaveLength(2);
  });

  it('signs with both secrets while the previous one is valid, then with the new one only', async () => {
    rig = await startWebhookRig();
    await rig.addEndpoint({
      eventTypes: ['payment.succeeded'],
      secret: 'whsec_new',
      previousSecret: { secret: 'whsec_old', expiresAtMs: rig.nowMs() + HOUR_MS },
    });
    rig.setAnswer(() => ({ ok: false, httpStatus: 503, error: 'HTTP 503' }));
    await rig.payPayment(PAYMENT_ID);
    await enqueued(rig, 1);
    await rig.deliver();
    expect(rig.sent[0]?.headers['webhook-signature']?.match(/v1=/g)).toHaveLength(2);

    rig.setAnswer(() => ({ ok: true, httpStatus: 204 }));
    rig.advance(HOUR_MS); // The old secret has expired; the retry is due by now.
    await rig.deliver();
    expect(rig.sent).toHaveLength(2);
    expect(rig.sent[1]?.headers['webhook-signature']?.match(/v1=/g)).toHaveLength(1);
    expect(rig.sent[1]?.headers['webhook-id']).toBe(rig.sent[0]?.headers['webhook-id']);
  });

  it('retries with exponential back-off and jitter, and gives up after 3 days', async () => {
    rig = await startWebhookRig({ answer: failing });
    await rig.addEndpoint({ eventTypes: ['payment.succeeded'] });
    await rig.payPayment(PAYMENT_ID);
    await enqueued(rig, 1);
    await rig.deliver();
    const eventId = eventIdOf(rig.sent[0]?.body ?? '{}');
    const pausesMs: number[] = [];
    for (let round = 0; round < 100; round += 1) {
      const [delivery] = await deliveriesOf(rig, eventId);
      if (delivery?.status !== 'pending') break;
      const pauseMs = delivery.nextAttemptAtMs - rig.nowMs();
      pausesMs.push(pauseMs);
      rig.advance(pauseMs - 1);
      const sentBefore = rig.sent.length;
      await rig.deliver();
      expect(rig.sent).toHaveLength(sentBefore); // One ms early: not due yet.
      rig.advance(1);
      await rig.deliver();
      expect(rig.sent).toHaveLength(sentBefore + 1);
    }
    // random() = 0.5: three quarters of 1 min, 2 min, 4 min, ... capped at 6 h.
    expect(pausesMs.slice(0, 4)).toEqual([45_000, 90_000, 180_000, 360_000]);
    expect(Math.max(...pausesMs)).toBe(0.75 * 6 * HOUR_MS);
    const [ended] = await deliveriesOf(rig, eventId);
    expect(ended?.status).toBe('failed');
    const lastAttempt = ended?.attempts.at(-1)?.attemptedAtMs ?? 0;
    expect(lastAttempt - (ended?.createdAtMs ?? 0)).toBeLessThanOrEqual(3 * DAY_MS);
    expect(lastAttempt - (ended?.createdAtMs ?? 0)).toBeGreaterThan(2 * DAY_MS);
    expect(ended?.attempts).toHaveLength(rig.sent.length);
  });

  it('disables an endpoint failing for too long and tells the other endpoints', async () => {
    rig = await startWebhookRig({ disableAfterMs: 2 * HOUR_MS });
    const broken = await rig.addEndpoint({ eventTypes: ['payment.succeeded'] });
    const watcher = await rig.addEndpoint({
      eventTypes: ['webhook_endpoint.disabled'],
      url: 'https://watcher.example/hooks',
    });
    rig.setAnswer((request) =>
      request.url === watcher.url ? { ok: true, httpStatus: 200 } : failing(),
    );
    await rig.payPayment(PAYMENT_ID);
    await enqueued(rig, 1);
    await rig.deliver();
    for (
      let round = 0;
      round < 20 && (await rig.webhooks.findEndpoint(broken.endpointId))?.enabled;
      round += 1
    ) {
      rig.advance(HOUR_MS);
      await rig.deliver();
    }
    expect(await rig.webhooks.findEndpoint(broken.endpointId)).toMatchObject({ enabled: false });
    await enqueued(rig, 2);
    await rig.deliver();
    const notice = rig.sent.find((request) => request.url === watcher.url);
    expect(JSON.parse(notice?.body ?? '{}')).toMatchObject({
      type: 'webhook_endpoint.disabled',
      data: { object: { endpointId: broken.endpointId, merchantId: 'merchant' } },
    });
    // Disabled: its pending delivery is no longer attempted.
    const sentBefore = rig.sent.length;
    rig.advance(DAY_MS);
    await rig.deliver();
    expect(rig.sent).toHaveLength(sentBefore);
  });

  it("sends a payment's events to its notifyUrl too, signed with the merchant's secret", async () => {
    rig = await startWebhookRig();
    await rig.addEndpoint({ eventTypes: ['payment.succeeded'] });
    await rig.addEndpoint({
      endpointId: merchantSecretIdOf('merchant'),
      kind: 'merchant',
      eventTypes: [],
      enabled: false,
      secret: 'whsec_merchant',
    });
    await rig.payPayment(PAYMENT_ID, { notifyUrl: 'https://shop.example/notify?order=1' });
    await enqueued(rig, 1);
    await rig.deliver();
    const notified = rig.sent.find((request) => request.url.startsWith('https://shop.example'));
    const registered = rig.sent.find((request) => request.url.startsWith('https://receiver'));
    expect(notified?.url).toBe('https://shop.example/notify?order=1');
    expect(notified?.body).toBe(registered?.body);
    const timestampS = Math.floor(rig.nowMs() / 1000);
    const expected = createHmac('sha256', 'whsec_merchant')
      .update(`${timestampS}.${notified?.body ?? ''}`)
      .digest('hex');
    expect(notified?.headers['webhook-signature']).toBe(`t=${timestampS},v1=${expected}`);
    expect(JSON.parse(notified?.body ?? '{}')).toMatchObject({
      data: { object: { notifyUrl: 'https://shop.example/notify?order=1' } },
    });
    // The one-off target is not one of the merchant's listed endpoints.
    expect(await rig.webhooks.listEndpoints('merchant', 16)).toHaveLength(1);
  });

  it('sends a delivery again on a manual resend, with the same event id', async () => {
    rig = await startWebhookRig();
    await rig.addEndpoint({ eventTypes: ['payment.succeeded'] });
    await rig.payPayment(PAYMENT_ID);
    await enqueued(rig, 1);
    await rig.deliver();
    const eventId = eventIdOf(rig.sent[0]?.body ?? '{}');
    const [delivered] = await deliveriesOf(rig, eventId);
    await rig.webhooks.resend(delivered?.deliveryId ?? '', rig.nowMs());
    await rig.deliver();
    expect(rig.sent.map((request) => request.headers['webhook-id'])).toEqual([eventId, eventId]);
    const [again] = await deliveriesOf(rig, eventId);
    expect(again?.attempts).toHaveLength(2);
  });
});
