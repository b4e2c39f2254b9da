import fc from 'fast-check';
import { createActorRegistry } from '../../../domain/actors/actor-registry';

type FakeActor = {
  id: string;
  busy: boolean;
  isIdle(): boolean;
  lastUsedMs(): number;
  committed(): unknown;
};

const fakeActor = (id: string): FakeActor => ({
  id,
  busy: false,
  isIdle() {
    return !this.busy;
  },
  lastUsedMs: () => 0,
  committed: () => ({}),
});

type Operation =
  | { kind: 'use'; stream: number }
  | { kind: 'setBusy'; stream: number; busy: boolean }
  | { kind: 'evict' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('use' as const), stream: fc.nat(11) }),
  fc.record({ kind: fc.constant('setBusy' as const), stream: fc.nat(11), busy: fc.boolean() }),
  fc.constant({ kind: 'evict' as const }),
);

describe('the actor registry', () => {
  it('evicts exactly as a plain list in recency order would, skipping busy actors', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 6 }),
        fc.array(operation, { maxLength: 200 }),
        (max, operations) => {
          const registry = createActorRegistry<FakeActor>({
            actorCountMax: max,
            idleMsMax: 60_000,
          });
          const model: FakeActor[] = []; // Least recently used first.
          for (const step of operations) {
            const stream = `s-${step.kind === 'evict' ? '' : step.stream}`;
            if (step.kind === 'use') {
              const live = registry.touch(stream);
              const index = model.findIndex((actor) => actor.id === stream);
              expect(live?.id).toBe(model[index]?.id);
              if (live === undefined) {
                const actor = fakeActor(stream);
                registry.add(stream, actor);
                model.push(actor);
              } else model.push(...model.splice(index, 1));
            } else if (step.kind === 'setBusy') {
              const actor = registry.peek(stream);
              if (actor !== undefined) actor.busy = step.busy;
            } else {
              registry.evictOverflow();
              for (let index = 0; index < model.length && model.length > max;) {
                if (model[index]?.isIdle() === true) model.splice(index, 1);
                else index += 1;
              }
            }
            expect(
              registry
                .actors()
                .map((actor) => actor.id)
                .sort(),
            ).toEqual(model.map((actor) => actor.id).sort());
            expect(registry.size()).toBe(model.length);
          }
          registry.stop();
        },
      ),
    );
  });

  it('refuses a second actor for a stream that has one', () => {
    const registry = createActorRegistry<FakeActor>({ actorCountMax: 2, idleMsMax: 60_000 });
    registry.add('s-1', fakeActor('s-1'));
    expect(() => registry.add('s-1', fakeActor('s-1'))).toThrow('s-1 added twice');
    registry.stop();
  });
});
