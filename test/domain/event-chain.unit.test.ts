import fc from 'fast-check';
import { canonicalJson } from '../../domain/event-chain';
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
