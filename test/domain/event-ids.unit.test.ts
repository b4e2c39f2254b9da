import fc from 'fast-check';
import { v5 as uuidv5 } from 'uuid';
import { deterministicEventId } from '../../domain/event-ids';

/** The definition the ids were first derived with: every stored seeded id is this. */
const reference = (seed: string, index: number): string =>
  uuidv5(`${seed}:${index}`, '6f1d2c8e-5b0a-4f7e-9a43-2f6c1b7d9e10');

describe('deterministicEventId', () => {
  it('derives the same ids as uuid v5 over the namespace, for any seed and index', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.nat(), (seed, index) => {
        expect(deterministicEventId(seed, index)).toBe(reference(seed, index));
      }),
      { numRuns: 1000 },
    );
  });
  it('keeps a known id (a traffic report shard event)', () => {
    expect(deterministicEventId('node-1:r-7:03', 0)).toBe('3de676ea-fdfd-514d-acef-4e92728af76e');
    expect(deterministicEventId('node-1:r-7:03', 0)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
