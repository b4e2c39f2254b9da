import type { Mode } from '../mode/mode';
import type { WebhookEventType } from '../webhook/webhook.model';

/**
 * A merchant's registered receiver (`endpoint`); a payment's one-off `notifyUrl` target
 * (`notify`, id = the paymentId, signed with the merchant's secret); or the row that holds the
 * merchant's secret for those (`merchant`, id = merchantSecretIdOf). Secrets are never logged.
 */
export type WebhookEndpoint = {
  endpointId: string;
  kind: 'endpoint' | 'notify' | 'merchant';
  merchantId: string;
  /** It receives events of objects of this mode only (the mode of the key that made it). */
  mode: Mode;
  url: string;
  eventTypes: readonly WebhookEventType[];
  description: string;
  enabled: boolean;
  secret: string;
  /** The secret before the last rotation, still signing (a second v1) until its expiry. */
  previousSecret: { secret: string; expiresAtMs: number } | null;
  /** Since when every delivery to it failed (null: the last one succeeded, or none yet). */
  failingSinceMs: number | null;
  createdAtMs: number;
};

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** One event for one endpoint: the exact body is fixed at creation, the signature per attempt. */
export type WebhookDelivery = {
  deliveryId: string;
  /** The logged event's id: the merchant's dedupe key. */
  eventId: string;
  eventType: WebhookEventType;
  endpointId: string;
  merchantId: string;
  body: string;
  status: WebhookDeliveryStatus;
  failedAttemptCount: number;
  /** When it is due (pending), else when it ended. */
  nextAttemptAtMs: number;
  /** Start of its retry window: creation, or the last manual resend. */
  createdAtMs: number;
};

export type WebhookAttempt = {
  deliveryId: string;
  attemptedAtMs: number;
  durationMs: number;
  /** The receiver's HTTP status; null when none came (refused, timeout, connection error). */
  httpStatus: number | null;
  /** Why it failed (null: it succeeded). */
  error: string | null;
};

export type WebhookEndpointChange = Partial<
  Pick<WebhookEndpoint, 'url' | 'eventTypes' | 'description' | 'enabled'>
>;

/** Endpoints, deliveries and their attempts, with the checkpoint of the log follower feeding them. */
export interface WebhookStore {
  /** Stores the endpoint unless one with its id exists (notify and merchant ids are derived). */
  createEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** The endpoint, or null (deleted or never created). */
  findEndpoint(endpointId: string): Promise<WebhookEndpoint | null>;
  /** A merchant's registered endpoints (kind `endpoint`), oldest first, at most countMax. */
  listEndpoints(merchantId: string, countMax: number): Promise<readonly WebhookEndpoint[]>;
  /** Applies the change; re-enabling clears failingSinceMs. Null when there is no such endpoint. */
  updateEndpoint(
    endpointId: string,
    change: WebhookEndpointChange,
  ): Promise<WebhookEndpoint | null>;
  /** Replaces the secret, keeping the old one valid until previousExpiresAtMs. */
  rotateSecret(
    endpointId: string,
    secret: string,
    previousExpiresAtMs: number,
  ): Promise<WebhookEndpoint | null>;
  /** Deletes the endpoint; its pending deliveries end as failed. False when there was none. */
  deleteEndpoint(endpointId: string, nowMs: number): Promise<boolean>;
  /** The follower's checkpoint: the last logged event whose deliveries are stored. */
  loadCheckpoint(): Promise<bigint | null>;
  /**
   * Stores the deliveries (an existing (eventId, endpointId) is left as it is) and moves the
   * checkpoint to `position`, in one commit: a crash loses or doubles none.
   */
  enqueue(deliveries: readonly WebhookDelivery[], position: bigint): Promise<void>;
  /** Pending deliveries due at nowMs of enabled endpoints, soonest first, except `excluded`. */
  dueDeliveries(
    nowMs: number,
    countMax: number,
    excluded: ReadonlySet<string>,
  ): Promise<readonly WebhookDelivery[]>;
  /**
   * Records an attempt and its consequence: success ends the delivery and clears the endpoint's
   * failing streak; a failure schedules the next attempt (nextAttemptAtMs), or ends it as failed
   * (null), and starts the endpoint's failing streak if none runs.
   */
  recordAttempt(attempt: WebhookAttempt, nextAttemptAtMs: number | null): Promise<void>;
  /** Disables the endpoint if it is enabled; true when this call disabled it. */
  disableEndpoint(endpointId: string): Promise<boolean>;
  /** A delivery by id, or null. */
  findDelivery(deliveryId: string): Promise<WebhookDelivery | null>;
  /** Every delivery of one logged event (one per endpoint), with its attempts, oldest first. */
  deliveriesOfEvent(
    eventId: string,
    attemptCountMax: number,
  ): Promise<readonly (WebhookDelivery & { attempts: readonly WebhookAttempt[] })[]>;
  /** Makes the delivery pending and due at nowMs, with a fresh retry window. Null if unknown. */
  resend(deliveryId: string, nowMs: number): Promise<WebhookDelivery | null>;
}
