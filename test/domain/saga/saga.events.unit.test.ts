import { parseStored } from '../../../domain/aggregate';
import type { JsonObject } from '../../../domain/ports/event-store.port';
import { sagaAggregate } from '../../../domain/saga/saga.decider';

const now = '2030-01-01T00:00:00.000Z';

describe('the saga event codec', () => {
  it('reads a stored saga event field by field and refuses a damaged one, naming the field', () => {
    const stored = (data: JsonObject) => ({
      type: 'SagaStepDeferred',
      data,
      metadata: { schemaVersion: 1 },
    });
    const deferred = {
      index: 0,
      counted: true,
      reason: null,
      nextRunAt: now,
      deferredAt: now,
    };
    expect(parseStored(sagaAggregate, stored(deferred))).toEqual({
      type: 'SagaStepDeferred',
      data: deferred,
    });
    expect(() => parseStored(sagaAggregate, stored({ ...deferred, counted: 'yes' }))).toThrow(
      /counted/,
    );
    expect(() =>
      parseStored(sagaAggregate, { ...stored(deferred), metadata: { schemaVersion: 2 } }),
    ).toThrow(/schemaVersion/);
  });
});
