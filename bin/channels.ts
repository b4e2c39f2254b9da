import type { AlertSink } from '../domain/ports/alert.port';
import { v7 as uuidv7 } from 'uuid';
import type { Logger } from 'winston';
import { createEventStoreReplayGuard } from '../adapters/channels/event-store.replay-guard';
import { createAlipayGateway } from '../adapters/channels/alipay/alipay.gateway';
import { createAlipayVerifier } from '../adapters/channels/alipay/alipay.verifier';
import {
  DEFAULT_RESILIENCE,
  createResilientGateway,
  type BreakerState,
  type RawChannelGateway,
  type ResilienceOptions,
} from '../adapters/channels/resilient-gateway';
import { serviceMetrics } from '../api/metrics';
import { createSandboxChannelVerifier } from '../adapters/channels/sandbox.channel';
import { createSandboxChannel, type SandboxChannel } from '../adapters/channels/sandbox.gateway';
import { createSqlitePaymentTicketStore } from '../adapters/channels/sqlite.channel-stores';
import { createStripeGateway } from '../adapters/channels/stripe/stripe.gateway';
import { createStripeVerifier } from '../adapters/channels/stripe/stripe.verifier';
import { createWechatV2Gateway } from '../adapters/channels/wechat/wechat-v2.gateway';
import { createWechatV2Verifier } from '../adapters/channels/wechat/wechat-v2.verifier';
import { createWechatV3Gateway } from '../adapters/channels/wechat/wechat-v3.gateway';
import { createWechatV3Verifier } from '../adapters/channels/wechat/wechat-v3.verifier';
import type { SqliteDatabase } from '../adapters/sqlite/open-database';
import type { ChannelServices } from '../api/routes/payment-payer.route';
import type { ActorRuntime } from '../domain/actors/actor-runtime';
import type { ChannelCallRecorded } from '../domain/payment/channel-log.decider';
import { recordChannelFact, systemContext } from '../domain/payment/channel-log.record';
import type { ChannelCallbackVerifier } from '../domain/ports/channel-callback.port';
import type { EventStore } from '../domain/ports/event-store.port';
import type { PaymentChannelGateway } from '../domain/ports/payment-channel.port';
import { readSandboxJournal } from '../adapters/channels/sandbox.journal';
import { createSqliteSandboxStore } from '../adapters/channels/sqlite.sandbox-store';
import type { ChannelConfig } from './channel-config';
import { CHANNEL_LIMITS } from './config';

type ChannelsDeps = {
  channelConfig: ChannelConfig;
  /** Where `ledger sandbox pay` keeps the sandbox journal. */
  dataDir: string;
  sandboxSecret: string;
  /** Where the sandbox delivers its callbacks: this service's own base URL. */
  serviceUrl: string;
  database: SqliteDatabase;
  eventStore: EventStore;
  runtime: ActorRuntime;
  logger: Logger;
  nowMs: () => number;
  resilience?: ResilienceOptions;
  /** A breaker that opens is alerted here; absent: not alerted. */
  alerts?: AlertSink;
};

type RunningChannels = {
  verifiers: ChannelCallbackVerifier[];
  services: ChannelServices;
  sandbox: SandboxChannel;
  /** Each gateway's circuit breaker state (metrics). */
  breakerStates: () => { channel: string; state: BreakerState }[];
  stop: () => void;
};

const rawGateways = (config: ChannelConfig, nowMs: () => number): RawChannelGateway[] => {
  const gateways: RawChannelGateway[] = [];
  const { wechat, alipay, stripe } = config;
  if (wechat !== null && wechat.apiVersion === 'v3' && wechat.v3 !== null)
    gateways.push(createWechatV3Gateway({ ...wechat, ...wechat.v3, nowMs }));
  if (wechat !== null && wechat.apiVersion === 'v2' && wechat.v2 !== null)
    gateways.push(createWechatV2Gateway({ ...wechat, ...wechat.v2 }));
  if (alipay !== null) gateways.push(createAlipayGateway({ ...alipay, nowMs }));
  if (stripe !== null && stripe.secretKey !== null)
    gateways.push(createStripeGateway({ baseUrl: stripe.baseUrl, secretKey: stripe.secretKey }));
  return gateways;
};

/** The sandbox's verifier, telling the sandbox's books every outcome a verified callback reports. */
const sandboxVerifier = (
  sandboxSecret: string,
  sandbox: SandboxChannel,
): ChannelCallbackVerifier => {
  const verifier = createSandboxChannelVerifier({ secrets: [sandboxSecret] });
  return {
    channel: verifier.channel,
    acknowledge: verifier.acknowledge,
    verify: (rawBody, headers, nowMs) => {
      const result = verifier.verify(rawBody, headers, nowMs);
      if (result.ok === true) sandbox.observe(result.notification, nowMs);
      return result;
    },
  };
};

const verifiersOf = (
  config: ChannelConfig,
  sandboxSecret: string,
  sandbox: SandboxChannel,
): ChannelCallbackVerifier[] => {
  const verifiers = config.sandboxEnabled ? [sandboxVerifier(sandboxSecret, sandbox)] : [];
  const { wechat, alipay, stripe } = config;
  if (wechat?.v2 != null)
    verifiers.push(
      createWechatV2Verifier({ appId: wechat.appId, mchId: wechat.mchId, ...wechat.v2 }),
    );
  if (wechat?.v3 != null)
    verifiers.push(createWechatV3Verifier({ mchId: wechat.mchId, ...wechat.v3 }));
  if (alipay !== null) verifiers.push(createAlipayVerifier(alipay));
  if (stripe !== null) verifiers.push(createStripeVerifier({ secrets: stripe.webhookSecrets }));
  return verifiers;
};

/** Builds verifiers, gateways (with timeouts, retries, breakers and recorded outcomes) and stores. */
export const startChannels = (deps: ChannelsDeps): RunningChannels => {
  const { runtime, nowMs, logger } = deps;
  const calls = serviceMetrics().channelCalls;
  const record = (fact: ChannelCallRecorded) => {
    calls.inc({ channel: fact.channel, operation: fact.operation, outcome: fact.outcome });
    return recordChannelFact(
      runtime,
      fact.paymentId,
      { type: 'ChannelCallRecorded', data: fact },
      systemContext(uuidv7(), new Date(nowMs()).toISOString()),
    );
  };
  const breakers = new Map<string, BreakerState>();
  const sandbox = createSandboxChannel({
    secret: deps.sandboxSecret,
    store: createSqliteSandboxStore(deps.database),
    paidElsewhere: (paymentId) =>
      readSandboxJournal(deps.dataDir)
        .filter((row) => row.paymentId === paymentId)
        .pop(),
    nowMs,
    deliver: async (rawBody, signature) => {
      const headers = { 'content-type': 'application/json', 'sandbox-signature': signature };
      const response = await fetch(`${deps.serviceUrl}/v1/channels/sandbox/callbacks`, {
        method: 'POST',
        headers,
        body: rawBody,
      });
      return response.status;
    },
  });
  if (deps.channelConfig.sandboxFailRefunds) sandbox.setScript({ failRefunds: true });
  const gateways = new Map<string, PaymentChannelGateway>();
  const { sandboxEnabled } = deps.channelConfig;
  const sandboxGateways = sandboxEnabled ? [sandbox.gateway] : [];
  for (const raw of [...sandboxGateways, ...rawGateways(deps.channelConfig, nowMs)]) {
    breakers.set(raw.channel, 'closed');
    const onBreakerState = (state: BreakerState): void => {
      breakers.set(raw.channel, state);
      if (state === 'open') deps.alerts?.raise('channel_breaker_open', raw.channel);
    };
    const resilience = deps.resilience ?? DEFAULT_RESILIENCE;
    gateways.set(
      raw.channel,
      createResilientGateway(raw, resilience, record, nowMs, onBreakerState),
    );
  }
  // Replay keys are idempotency records of the event store, purged with the others.
  const replayGuard = createEventStoreReplayGuard(deps.eventStore);
  const tickets = createSqlitePaymentTicketStore(deps.database);
  const purge = setInterval(() => {
    tickets
      .purgeExpired(nowMs())
      .catch((error: unknown) => logger.warn('channel_purge_failed', { error: String(error) }));
  }, CHANNEL_LIMITS.purgeIntervalMs);
  // Switched off, the sandbox takes no order and so has nothing to flush.
  const flush = sandboxEnabled
    ? setInterval(() => {
        sandbox
          .flush()
          .catch((error: unknown) => logger.warn('sandbox_flush_failed', { error: String(error) }));
      }, CHANNEL_LIMITS.sandboxFlushIntervalMs)
    : null;
  purge.unref();
  flush?.unref();
  const verifiers = verifiersOf(deps.channelConfig, deps.sandboxSecret, sandbox);
  logger.info('channels_configured', {
    gateways: [...gateways.keys()],
    callbacks: verifiers.map((verifier) => verifier.channel),
  });
  return {
    verifiers,
    services: {
      gateways,
      replayGuard,
      tickets,
      eventStore: deps.eventStore,
      // Switched off, the sandbox's desk routes (order query, payer pays) are not registered.
      ...(sandboxEnabled ? { sandbox } : {}),
      sandboxEnabled,
    },
    sandbox,
    breakerStates: () => [...breakers].map(([channel, state]) => ({ channel, state })),
    stop: () => {
      clearInterval(purge);
      if (flush !== null) clearInterval(flush);
    },
  };
};
