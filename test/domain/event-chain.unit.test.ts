import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  canonicalJson,
  EMPTY_CHAIN,
  eventHash,
  GENESIS_HASH,
  HASH_VERSION,
  sealEvents,
  verifyChain,
  type UnhashedEvent,
} from '../../domain/event-chain';
import type { JsonValue, RecordedEvent } from '../../domain/ports/event-store.port';

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

describe('hash versions', () => {
  const metadata = {
    correlationId: 'corr',
    causationId: null,
    actor: { clientId: 'node-1', role: 'node', ip: null },
    idempotencyKey: null,
    occurredAt: '2026-12-06T10:00:00.000Z',
    schemaVersion: 2,
  };
  const sha256 = (...parts: string[]) => {
    const hash = createHash('sha256');
    parts.forEach((part) => hash.update(part));
    return hash.digest('hex');
  };
  const recorded = (
    stream: string,
    events: readonly (UnhashedEvent & { metadata: { hash: string } })[],
  ): RecordedEvent[] =>
    events.map((event, revision) => {
      // As a reader gets it back: parsed from the stored text.
      const stored = JSON.parse(JSON.stringify(event)) as RecordedEvent;
      return { ...stored, stream, revision, position: BigInt(revision + 1) };
    });
  const usage = (id: string, userIds: string[]): UnhashedEvent => ({
    id,
    type: 'UsageReported',
    data: { reportId: id, usages: userIds.map((userId) => [userId, 10, 20]), 'n"ote': 'é\u2028' },
    metadata,
  });

  it('seals with version 2: sha256(previous hash + [stream, revision, id, type, metadata, data as stored])', () => {
    const event = usage('r-1', ['u-1', 'u-2']);
    const { events } = sealEvents('trafficshard-03', EMPTY_CHAIN, [event]);
    const [sealed] = events;
    expect(sealed?.metadata.hashVersion).toBe(HASH_VERSION);
    const body =
      `["trafficshard-03",0,"r-1","UsageReported",` +
      `${canonicalJson({ ...metadata, hashVersion: 2 })},${JSON.stringify(event.data)}]`;
    expect(sealed?.metadata.hash).toBe(sha256(GENESIS_HASH, body));
  });

  it('verifies a stream whose old events carry version 1 and whose new ones carry version 2', () => {
    const stream = 'trafficshard-07';
    // Version 1, as older builds wrote it: no hashVersion in the metadata.
    const old = [usage('r-1', ['u-1']), usage('r-2', ['u-2', 'u-3'])];
    let lastHash = GENESIS_HASH;
    const oldSealed = old.map((event, revision) => {
      lastHash = eventHash(lastHash, stream, revision, event);
      return { ...event, metadata: { ...event.metadata, hash: lastHash } };
    });
    expect(oldSealed.every((event) => !('hashVersion' in event.metadata))).toBe(true);
    const tail = { nextRevision: 2, lastHash };
    const newSealed = sealEvents(stream, tail, [usage('r-3', ['u-1']), usage('r-4', ['u-4'])]);
    const log = recorded(stream, [...oldSealed, ...newSealed.events]);
    expect(verifyChain(EMPTY_CHAIN, log)).toEqual({ ok: true, tail: newSealed.tail });

    // A new-version event changed: broken at its revision.
    const changed = log.map((event) =>
      event.revision === 3 ? { ...event, data: { ...event.data, reportId: 'r-x' } } : event,
    );
    expect(verifyChain(EMPTY_CHAIN, changed)).toMatchObject({ ok: false, broken: { revision: 3 } });
    // Its version marker removed (verified as version 1 instead): broken too.
    const unmarked = log.map((event) => {
      if (event.revision !== 2) return event;
      const { hashVersion: _dropped, ...rest } = event.metadata;
      return { ...event, metadata: rest };
    });
    expect(verifyChain(EMPTY_CHAIN, unmarked)).toMatchObject({
      ok: false,
      broken: { revision: 2 },
    });
    // An old-version event changed: broken as before.
    const oldChanged = log.map((event) =>
      event.revision === 1 ? { ...event, data: { ...event.data, reportId: 'r-y' } } : event,
    );
    expect(verifyChain(EMPTY_CHAIN, oldChanged)).toMatchObject({
      ok: false,
      broken: { revision: 1 },
    });
  });
});
