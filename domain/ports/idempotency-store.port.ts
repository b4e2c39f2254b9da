/**
 * The idempotency store port: remembers, per client scope and Idempotency-Key, which request body
 * was first seen and the response it produced, so that a retried POST is answered without being
 * executed twice. Writes are durable before the promise resolves.
 */

/** The part of an HTTP response that a replay must reproduce. */
export type StoredResponse = {
  status: number;
  /** The JSON response body (the envelope), exactly as first sent. */
  body: unknown;
  /** An allow-listed subset of response headers (lower-case names), e.g. location. */
  headers: Readonly<Record<string, string>>;
};

export type BeginResult =
  | 'started'
  | { state: 'in_flight' }
  | { state: 'completed'; response: StoredResponse }
  | { state: 'fingerprint_mismatch' };

export interface IdempotencyStore {
  /**
   * Claims (scope, key) for ownerId. 'started' when the caller must execute the request: the key
   * is new, or its in-flight row belongs to another owner (a crashed process) and is taken over.
   */
  begin(
    scope: string,
    key: string,
    fingerprint: string,
    ownerId: string,
    nowMs: number,
  ): Promise<BeginResult>;
  /** Stores the outcome of a started request; later begins replay it. The first outcome wins. */
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
  /** Forgets an in-flight key owned by ownerId (nothing was executed); the client may retry. */
  release(scope: string, key: string, ownerId: string): Promise<void>;
  /** Deletes keys first seen before createdBeforeMs; returns how many were deleted. */
  purgeOlderThan(createdBeforeMs: number): Promise<number>;
}
