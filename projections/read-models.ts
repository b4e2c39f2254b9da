import { accountsProjection } from './accounts.projection';
import { auditTrailProjection } from './audit-trail.projection';
import { paymentsProjection } from './payments.projection';
import type { Projection } from './projection';
import { trafficProjection } from './traffic.projection';
import { transfersProjection } from './transfers.projection';

/**
 * Every read model, folded by one runner per generation. Bump READ_MODELS_VERSION whenever a
 * projection changes what it writes: at start the service then rebuilds a new generation beside
 * the live one and switches to it once caught up. Accounts come first: transfers read them.
 * Version 4: traffic documents carry level, group and expiresAt as indexed fields (node list);
 * payments and refunds show their mode. Version 5: a traffic document is the user's state, flat,
 * with its index fields; the view is made when read (no view and state stored twice). Version 6:
 * the traffic users' collection lists its fields as typed columns (the embedded store keeps it in
 * a narrow table, a column per field, instead of JSON documents).
 */
export const READ_MODELS_VERSION = 6;

export const READ_MODELS: readonly Projection[] = [
  accountsProjection,
  transfersProjection,
  paymentsProjection,
  trafficProjection,
  auditTrailProjection,
];

/**
 * Collections earlier versions wrote and this one does not: dropped with their generation.
 * audit_trail (one indexed row per event, until version 2) became audit_heads and audit_chunks.
 */
export const RETIRED_COLLECTIONS: readonly string[] = ['audit_trail'];

/** The physical name of a logical collection in a generation, e.g. payments_g3. */
export const collectionIn = (logical: string, generation: number): string =>
  `${logical}_g${generation}`;

export const checkpointOf = (generation: number): string => `read_models_g${generation}`;
