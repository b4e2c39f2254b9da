import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { sagaAggregate } from '../../domain/saga/saga.decider';
import { createSagaSweeper } from '../../sagas/saga-sweeper';
import { topUpSaga } from '../../sagas/top-up.saga';
import { createLedger } from '../support/ledger-harness';
import { eventually } from '../support/eventually';
import { closeAccount, createPayment, openWallet, payPayment } from './support/saga-harness';
import { createStandaloneCheckpointStore } from './support/scripted-gateway';

describe('saga sweeper', () => {
  it("starts no top-up for a success whose credit the log shows in the payment's own commit, and still starts one whose credit was refused", async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    const harness = createLedger(store);
    await openWallet(harness, 'w1');
    await createPayment(harness, 'p1', { walletId: 'w1', amountMinor: 500 });
    await payPayment(harness, 'p1', 500);
    await openWallet(harness, 'w2');
    await createPayment(harness, 'p2', { walletId: 'w2', amountMinor: 5 });
    await closeAccount(harness, 'w2');
    await payPayment(harness, 'p2', 5);
    const log = await store.readAll({ afterPosition: null, eventCountMax: 1000 });
    const head = log[log.length - 1]?.position;

    const starts: string[] = [];
    const checkpoints = createStandaloneCheckpointStore();
    const errors: string[] = [];
    const sweeper = createSagaSweeper({
      store,
      checkpoints,
      engine: {
        definitions: [topUpSaga({ ...harness, gateways: [] })],
        start: (sagaName, sagaId) => {
          starts.push(`${sagaName}-${sagaId}`);
          return Promise.resolve(sagaAggregate.initialState);
        },
        drive: () => Promise.resolve(sagaAggregate.initialState),
      },
      // Every start is due at once.
      clock: () => Date.now() + 60_000,
      graceMs: 0,
      tickMs: 3_600_000,
      sagasPerTickMax: 100,
      onError: (what, fields) => errors.push(`${what} ${JSON.stringify(fields)}`),
    });
    await sweeper.start();
    // The positive signal: the sweeper followed the whole log and its checkpoint reached the head.
    await eventually(
      async () => {
        await sweeper.tick();
        return (await checkpoints.load('saga-sweeper')) === head ? true : undefined;
      },
      { timeoutMs: 5000, what: "the sweeper's checkpoint at the head of the log" },
    );
    await sweeper.stop();
    expect(starts).toEqual(['top_up-p2']);
    expect(errors).toEqual([]);
    await harness.runtime.close();
  });
});
