import type { ActorRuntime } from '../../domain/actors/actor-runtime';
import type { AlertSink } from '../../domain/ports/alert.port';
import type { AuditRecord } from '../../domain/ports/audit.port';
import type { ChannelCallbackVerifier } from '../../domain/ports/channel-callback.port';
import type { EventStore, JsonObject } from '../../domain/ports/event-store.port';
import type { Ledger } from '../../domain/ledger/ledger';
import type { TrafficWriter } from '../../domain/traffic/traffic-writer';
import type { PersonalDataAccess } from '../personal-data';
import type { RouteRegistrar } from '../route-kit';

/** Security facts the API reports (rejected commands, admin actions): to the bus, never the log. */
export type SecurityAudit = {
  /** Fire and forget: bounded, never blocks the response, never throws; no secret goes in detail. */
  report(kind: AuditRecord['kind'], actor: string | null, detail: JsonObject): void;
};

/** What the resource routes run commands through; built by the composition root. */
export type LedgerServices = {
  runtime: ActorRuntime;
  /** The single writer of accounts and transfers. */
  ledger: Ledger;
  /** The single writer of the traffic shards. */
  traffic: TrafficWriter;
  channelVerifiers: readonly ChannelCallbackVerifier[];
  /** Default time a payment stays payable. */
  paymentTtlMs: number;
  nowMs: () => number;
  /** Where rejected commands and admin actions are reported; absent: not reported. */
  audit?: SecurityAudit;
  /** Holder data of accounts (sealed, masked, erased); absent: `holder` is refused. */
  personalData?: PersonalDataAccess;
  /** Security alerts (forged signatures, duplicates, ticket guessing, enumeration); absent: none. */
  alerts?: AlertSink;
  /** The log, for `GET /accounts/{id}?at=|asOf=` (the account then); absent: those are ignored. */
  eventStore?: EventStore;
};

/** Positions are bigints: JSON carries them as decimal strings. */
export const positionJson = (position: bigint | null): string | null =>
  position === null ? null : position.toString();

// Keyed by the app's router (ctx.router) so that sendRejection and the client routes, which only
// see ctx, reach the audit of the app that serves them.
const auditByRouter = new WeakMap<object, SecurityAudit>();

/** Binds services.audit to the app's router; register it with the other routes. */
export const securityAuditRoutes =
  (services: Pick<LedgerServices, 'audit'>): RouteRegistrar =>
  (kit) => {
    if (services.audit !== undefined) auditByRouter.set(kit.router, services.audit);
  };

/** The SecurityAudit bound to the router serving ctx, or null when none is. */
export const securityAuditOf = (ctx: object): SecurityAudit | null => {
  const { router } = ctx as { router?: object };
  return router === undefined ? null : (auditByRouter.get(router) ?? null);
};
