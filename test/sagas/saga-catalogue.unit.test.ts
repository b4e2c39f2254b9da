import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { createActorRuntime } from '../../domain/actors/actor-runtime';
import { sagaAggregate } from '../../domain/saga/saga.decider';
import { createSagaCatalogue } from '../../sagas/saga-catalogue';
import { eventually } from '../support/eventually';
import { context, limits } from '../domain/actors/counter.fixture';

const NOW = '2026-01-01T00:00:00.000Z';

describe('the saga catalogue', () => {
  it('keeps every active saga and only the most recently finished final ones', async () => {
    const store = createInMemoryEventStore();
    const runtime = createActorRuntime(store, limits());
    const start = (sagaId: string) =>
      runtime.execute(
        sagaAggregate,
        `topup-${sagaId}`,
        {
          type: 'StartSaga',
          data: { sagaName: 'topup', sagaId, input: {}, stepNames: ['credit'], now: NOW },
        },
        context(),
      );
    const finish = (sagaId: string) =>
      runtime.execute(
        sagaAggregate,
        `topup-${sagaId}`,
        {
          type: 'RecordStepCompleted',
          data: { phase: 'running', cursor: 0, output: {}, finish: true, now: NOW },
        },
        context(),
      );
    await start('active-1');
    for (const sagaId of ['done-1', 'done-2', 'done-3']) {
      await start(sagaId);
      await finish(sagaId);
    }
    const catalogue = createSagaCatalogue({ store, sagaNames: ['topup'], finalSagaCountMax: 2 });
    catalogue.start();
    const listed = async () =>
      (
        await catalogue.query.list({ status: null, sagaName: null, pageNum: 1, pageSize: 10 })
      ).sagas.map((saga) => `${saga.sagaId}:${saga.status}`);
    try {
      // The positive signal: done-3's completion, the last change in the log, is listed.
      const sagas = await eventually(
        async () => {
          const now = await listed();
          return now.includes('done-3:completed') ? now : undefined;
        },
        { timeoutMs: 5000, what: 'the catalogue at the head of the log' },
      );
      // Newest change first; done-1 finished first, so it went when done-3 made three final ones.
      expect(sagas).toEqual(['done-3:completed', 'done-2:completed', 'active-1:running']);
    } finally {
      await catalogue.stop();
      await runtime.close();
    }
  });
});
