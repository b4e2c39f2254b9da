import { createHash } from 'node:crypto';

/** Fixed forever: changing it would change every seeded event id and break idempotent retries. */
const LEDGER_EVENT_NAMESPACE = '6f1d2c8e-5b0a-4f7e-9a43-2f6c1b7d9e10';
const NAMESPACE_BYTES = Buffer.from(LEDGER_EVENT_NAMESPACE.replaceAll('-', ''), 'hex');

/**
 * The id of the index-th event decided by a command run with this seed. A retried step re-derives
 * the same ids, so the store's idempotent re-append and the transfer recovery can recognise it.
 * A UUID version 5 (RFC 9562: SHA-1 of the namespace's bytes and the name's UTF-8), computed with
 * node:crypto: the same ids as uuid's v5, which hashed in JavaScript (a measured share of a
 * traffic report's cost, one id per shard event).
 */
export const deterministicEventId = (seed: string, index: number): string => {
  const digest = createHash('sha1').update(NAMESPACE_BYTES).update(`${seed}:${index}`).digest();
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x50; // Version 5.
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80; // Variant RFC 9562.
  const hex = digest.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
