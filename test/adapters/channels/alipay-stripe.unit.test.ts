import { createAlipayVerifier } from '../../../adapters/channels/alipay/alipay.verifier';
import { alipayNotificationBase } from '../../../adapters/channels/alipay/alipay.sign';
import { createStripeVerifier } from '../../../adapters/channels/stripe/stripe.verifier';
import {
  ALIPAY_APP_ID,
  NOW_MS,
  PAID_AT_MS,
  PAYMENT_ID,
  STRIPE_SECRETS,
  alipayForm,
  alipaySdkOf,
  formObject,
  rsaKeys,
  stripeEvent,
  stripeSdk,
  stripeSignature,
} from './channel-fixtures';

/** `app` plays Alipay's key pair here: it signs the notifications. */
const app = rsaKeys();
const stranger = rsaKeys();
const alipay = createAlipayVerifier({ appId: ALIPAY_APP_ID, alipayPublicKey: app.publicKey });
const alipaySdk = alipaySdkOf({ privateKey: rsaKeys().privateKey, alipayPublicKey: app.publicKey });
const alipayRefusal = (form: string) => {
  const result = alipay.verify(Buffer.from(form), {}, NOW_MS);
  if (result.ok === 'no_effect') return 'no_effect';
  return result.ok ? 'accepted' : result.refusal;
};

describe('Alipay notifications (RSA2)', () => {
  it('verifies over the sorted parameters without sign, sign_type and empty values', () => {
    expect(
      alipayNotificationBase(
        new Map([
          ['b', '2'],
          ['sign', 'x'],
          ['a', '1'],
          ['sign_type', 'RSA2'],
          ['c', ''],
        ]),
      ),
    ).toBe('a=1&b=2');
  });

  it('accepts a signed payment notification in yuan as minor units', () => {
    const form = alipayForm(app.privateKey, { total_amount: '10.01' });
    expect(alipaySdk.checkNotifySignV2(formObject(form))).toBe(true);
    expect(alipay.verify(Buffer.from(form), {}, NOW_MS)).toMatchObject({
      ok: true,
      notification: {
        kind: 'payment',
        outcome: 'succeeded',
        paymentId: PAYMENT_ID,
        amountMinor: 1001,
        currency: 'CNY',
        channelPaidAt: new Date(PAID_AT_MS).toISOString(), // gmt_payment, Beijing time.
      },
      replayKey: 'ac05099524730693a8b330c5ecf72da9786',
    });
  });

  it('reports closed trades as failures and refunds as refunds', () => {
    expect(
      alipay.verify(
        Buffer.from(alipayForm(app.privateKey, { trade_status: 'TRADE_CLOSED' })),
        {},
        NOW_MS,
      ),
    ).toMatchObject({ ok: true, notification: { outcome: 'failed' } });
    const refund = alipayForm(app.privateKey, {
      out_biz_no: 'r-1',
      gmt_refund: '2025-03-01 18:00:00',
      refund_fee: '1.00',
    });
    expect(alipay.verify(Buffer.from(refund), {}, NOW_MS)).toMatchObject({
      ok: true,
      notification: { kind: 'refund', refundId: 'r-1' },
    });
  });

  it('refuses what alipay-sdk refuses: a tampered or foreign notification', () => {
    for (const form of [
      alipayForm(app.privateKey).replace('total_amount=10.00', 'total_amount=0.01'),
      alipayForm(app.privateKey).replace('TRADE_SUCCESS', 'TRADE_FINISHED'),
      alipayForm(stranger.privateKey),
    ]) {
      expect([alipaySdk.checkNotifySignV2(formObject(form)), alipayRefusal(form)]).toEqual([
        false,
        'invalid_signature',
      ]);
    }
  });

  it.each([
    ['a signature by another key', () => alipayForm(stranger.privateKey), 'invalid_signature'],
    [
      'sign_type RSA (SHA1)',
      () => alipayForm(app.privateKey, {}, { signType: 'RSA' }),
      'invalid_signature',
    ],
    [
      'a truncated sign',
      () => alipayForm(app.privateKey).replace(/sign=([^&]{40})[^&]*/, 'sign=$1'),
      'invalid_signature',
    ],
    [
      'a tampered amount',
      () => alipayForm(app.privateKey).replace('total_amount=10.00', 'total_amount=0.01'),
      'invalid_signature',
    ],
    [
      'another app',
      () => alipayForm(app.privateKey, { app_id: '2021000000000000' }),
      'invalid_signature',
    ],
    [
      'a notify_time 6 minutes old',
      () => alipayForm(app.privateKey, {}, { notifyMs: NOW_MS - 6 * 60_000 }),
      'stale_signature',
    ],
    [
      'a duplicated parameter',
      () => `${alipayForm(app.privateKey)}&trade_status=TRADE_SUCCESS`,
      'malformed_callback',
    ],
    ['a body that is not a form', () => '{"trade_status":"TRADE_SUCCESS"}', 'malformed_callback'],
    [
      'an amount with three decimals',
      () => alipayForm(app.privateKey, { total_amount: '1.005' }),
      'malformed_callback',
    ],
    [
      'a waiting trade',
      () => alipayForm(app.privateKey, { trade_status: 'WAIT_BUYER_PAY' }),
      'malformed_callback',
    ],
  ])('refuses %s', (_name, form, refusal) => {
    expect(alipayRefusal(form())).toBe(refusal);
  });

  it("acknowledges with Alipay's plain text", () => {
    expect([alipay.acknowledge?.(true, '').body, alipay.acknowledge?.(false, 'x').body]).toEqual([
      'success',
      'failure',
    ]);
  });
});

const stripe = createStripeVerifier({ secrets: STRIPE_SECRETS });
const intent = {
  id: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
  object: 'payment_intent',
  amount: 2000,
  amount_received: 2000,
  currency: 'eur',
  metadata: { paymentId: PAYMENT_ID },
};
const stripeVerify = (body: string, header: string, nowMs = NOW_MS) =>
  stripe.verify(Buffer.from(body), { 'stripe-signature': header }, nowMs);
const stripeRefusal = (body: string, header: string, nowMs = NOW_MS) => {
  const result = stripeVerify(body, header, nowMs);
  if (result.ok === 'no_effect') return 'no_effect';
  return result.ok ? 'accepted' : result.refusal;
};

describe('Stripe-style webhooks', () => {
  const body = stripeEvent('payment_intent.succeeded', intent);

  it("accepts what the stripe package's constructEvent accepts, refuses what it refuses", () => {
    const header = stripeSignature(STRIPE_SECRETS[0] ?? '', body, Date.now());
    expect(stripeSdk.webhooks.constructEvent(body, header, STRIPE_SECRETS[0] ?? '').id).toBe(
      'evt_1NG8Du2eZvKYlo2CUI79vXWy',
    );
    expect(stripeRefusal(body, header, Date.now())).toBe('accepted');
    const tampered = body.replace('"amount":2000', '"amount":2');
    expect(() =>
      stripeSdk.webhooks.constructEvent(tampered, header, STRIPE_SECRETS[0] ?? ''),
    ).toThrow(stripeSdk.errors.StripeSignatureVerificationError);
    expect(stripeRefusal(tampered, header, Date.now())).toBe('invalid_signature');
  });

  it('accepts a signed event and keys replays by event id', () => {
    expect(stripeVerify(body, stripeSignature(STRIPE_SECRETS[0] ?? '', body))).toMatchObject({
      ok: true,
      notification: {
        kind: 'payment',
        outcome: 'succeeded',
        amountMinor: 2000,
        currency: 'EUR',
        channelTransactionId: intent.id,
        channelPaidAt: new Date(PAID_AT_MS).toISOString(), // the event's created.
      },
      replayKey: 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
    });
  });

  it('accepts any of several v1 values and any configured secret during a rotation', () => {
    const signed = stripeSignature(STRIPE_SECRETS[1] ?? '', body);
    const v1 = signed.split('v1=')[1] ?? '';
    const t = signed.split(',')[0] ?? '';
    expect(stripeRefusal(body, `${t},v1=${'0'.repeat(64)},v1=${v1}`)).toBe('accepted');
  });

  it.each([
    [
      'an unknown secret',
      () => stripeSignature('whsec_attacker', body),
      NOW_MS,
      'invalid_signature',
    ],
    ['no header', () => '', NOW_MS, 'invalid_signature'],
    ['a header without v1', () => `t=${NOW_MS / 1000}`, NOW_MS, 'invalid_signature'],
    [
      'a truncated v1',
      () => stripeSignature(STRIPE_SECRETS[0] ?? '', body).slice(0, -2),
      NOW_MS,
      'invalid_signature',
    ],
    [
      'two timestamps',
      () => `t=1,${stripeSignature(STRIPE_SECRETS[0] ?? '', body)}`,
      NOW_MS,
      'invalid_signature',
    ],
    [
      'a signature 301 s old',
      () => stripeSignature(STRIPE_SECRETS[0] ?? '', body, NOW_MS - 301_000),
      NOW_MS,
      'stale_signature',
    ],
  ])('refuses %s', (_name, header, nowMs, refusal) => {
    expect(stripeRefusal(body, header(), nowMs)).toBe(refusal);
  });

  it('acknowledges without effect an event type it does not act on, and a refund in progress', () => {
    const pending = stripeEvent('refund.updated', {
      id: 're_1',
      status: 'pending',
      metadata: { paymentId: PAYMENT_ID, refundId: 'r-1' },
    });
    for (const [event, detail] of [
      [stripeEvent('customer.created', intent), "event type 'customer.created' is not acted on"],
      [pending, "refund status 'pending' is not final"],
    ] as const)
      expect(stripeVerify(event, stripeSignature(STRIPE_SECRETS[0] ?? '', event))).toEqual({
        ok: 'no_effect',
        detail,
      });
    // Unsigned, it is refused like any other forgery.
    expect(stripeRefusal(pending, stripeSignature('whsec_wrong', pending))).toBe(
      'invalid_signature',
    );
  });

  it('refuses signed but unusable events', () => {
    for (const bad of [
      stripeEvent('payment_intent.succeeded', { ...intent, metadata: {} }),
      stripeEvent('refund.updated', {
        id: 're_1',
        metadata: { paymentId: PAYMENT_ID, refundId: 'r' },
      }),
      '{"id":"evt_1"}',
      'not json',
    ]) {
      expect(stripeRefusal(bad, stripeSignature(STRIPE_SECRETS[0] ?? '', bad))).toBe(
        'malformed_callback',
      );
    }
  });

  it('maps refund results', () => {
    const refund = stripeEvent('refund.updated', {
      id: 're_1',
      status: 'succeeded',
      metadata: { paymentId: PAYMENT_ID, refundId: 'r-1' },
    });
    expect(stripeVerify(refund, stripeSignature(STRIPE_SECRETS[0] ?? '', refund))).toMatchObject({
      ok: true,
      notification: { kind: 'refund', outcome: 'succeeded', channelRefundId: 're_1' },
    });
  });
});
