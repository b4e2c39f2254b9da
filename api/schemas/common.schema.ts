import { knownCurrencies } from '../../domain/money';
import { CLIENT_ROLES } from '../../domain/ports/client-store.port';

/**
 * Reusable JSON Schema pieces. Plain objects (no ajv-only keywords besides `nullable`, which the
 * validators drop unless a route allows null, and api/openapi.ts turns into a type array where
 * kept) so that the schemas the routes validate with also
 * generate the OpenAPI document (GET /v1/openapi.json); compose them into route schemas with
 * additionalProperties: false.
 */

/** Integer minor units, positive, within the safe-integer range (so no float and no rounding). */
export const amountMinorSchema = {
  type: 'integer',
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
} as const;

/** ISO-4217 code known to the runtime's ICU data. */
export const currencySchema = { type: 'string', enum: knownCurrencies() } as const;

/** Client-chosen identifiers: accountId, transferId, paymentId, clientId, ... */
const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
export const idSchema = { type: 'string', pattern: ID_PATTERN } as const;

export const clientRoleSchema = { type: 'string', enum: CLIENT_ROLES } as const;

/** An ISO-8601 instant with its offset, e.g. 2025-01-31T12:00:00Z. */
export const instantSchema = { type: 'string', format: 'date-time' } as const;

/** Free text kept with a command, e.g. a transfer's description. */
const DESCRIPTION_CHARS_MAX = 500;
export const descriptionSchema = { type: 'string', maxLength: DESCRIPTION_CHARS_MAX } as const;

/** Pagination of list endpoints: page_num from 1, page_size up to PAGE_SIZE_MAX. */
const PAGE_SIZE_MAX = 100;
export const pageNumSchema = { type: 'integer', minimum: 1, maximum: 1_000_000 } as const;
export const pageSizeSchema = { type: 'integer', minimum: 1, maximum: PAGE_SIZE_MAX } as const;
