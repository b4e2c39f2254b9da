import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  canonicalJson,
  eventHash,
  GENESIS_HASH,
  type UnhashedEvent,
} from '../../domain/event-chain';
import type { JsonValue } from '../../domain/ports/event-store.port';

/** The definition the hash chain was first written with: auditors' tools recompute it so. */
const reference = (value: JsonValue): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${reference(value[key] ?? null)}`).join(',')}}`;
};

describe('canonicalJson', () => {
  it('gives the same text as the definition for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const json = JSON.parse(JSON.stringify(value)) as JsonValue;
        expect(canonicalJson(json)).toBe(reference(json));
      }),
      { numRuns: 500 },
    );
  });
  it('sorts keys at every depth and drops whitespace', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 'x' }], a: null })).toBe(
      '{"a":null,"b":[2,{"c":"x","d":1}]}',
    );
  });
});

describe('eventHash', () => {
  const reference = (
    previousHash: string,
    stream: string,
    revision: number,
    event: UnhashedEvent,
  ) => {
    const body = {
      stream,
      revision,
      id: event.id,
      type: event.type,
      data: event.data,
      metadata: event.metadata as unknown as JsonValue,
    };
    return createHash('sha256').update(previousHash).update(canonicalJson(body)).digest('hex');
  };
  const metadata = {
    correlationId: 'corr',
    causationId: null,
    actor: { clientId: 'admin', role: 'admin', ip: '127.0.0.1' },
    idempotencyKey: 'key "quoted"',
    occurredAt: '2026-12-06T10:00:00.000Z',
    schemaVersion: 1,
  };
  it('is sha256 of the previous hash and the canonical JSON of the event with its place', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), fc.nat(), (data, type, revision) => {
        const event: UnhashedEvent = {
          id: 'id-1',
          type,
          data: { value: JSON.parse(JSON.stringify(data ?? null)) as JsonValue },
          metadata,
        };
        expect(eventHash(GENESIS_HASH, 'account-a', revision, event)).toBe(
          reference(GENESIS_HASH, 'account-a', revision, event),
        );
      }),
      { numRuns: 300 },
    );
  });
  it('ignores a hash already in the metadata, as verification does', () => {
    const event: UnhashedEvent = { id: 'e', type: 'T', data: {}, metadata };
    const sealed = { ...event, metadata: { ...metadata, hash: 'f'.repeat(64) } };
    expect(eventHash(GENESIS_HASH, 's', 0, sealed)).toBe(eventHash(GENESIS_HASH, 's', 0, event));
  });
});
