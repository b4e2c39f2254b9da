import { MongoErrorLabel, MongoNetworkError, MongoServerError } from 'mongodb';
import {
  runTransaction,
  type TransactionClock,
  type TransactionSession,
} from '../../adapters/readmodels/mongodb-transaction';
import { isOutage, toPortError } from '../../adapters/readmodels/mongodb-errors';
import { UnavailableError } from '../../domain/ports/event-store.port';

/**
 * The bounded transaction loop against a scripted session (no server: the errors are the driver's
 * own classes with the labels a server or the driver puts on them). Time is a counter that each
 * step advances by stepMs.
 */
const labelled = (label: string, code = 112): MongoServerError => {
  const error = new MongoServerError({ ok: 0, code, codeName: 'Scripted', errmsg: 'scripted' });
  error.addErrorLabel(label);
  return error;
};

const scripted = (outcomes: { work: (Error | null)[]; commit: (Error | null)[] }) => {
  const calls: string[] = [];
  let inTransaction = false;
  const next = (queue: (Error | null)[]): Error | null =>
    (queue.length > 1 ? queue.shift() : queue[0]) ?? null;
  const session: TransactionSession = {
    startTransaction: () => {
      calls.push('start');
      inTransaction = true;
    },
    inTransaction: () => inTransaction,
    abortTransaction: async () => {
      calls.push('abort');
      inTransaction = false;
    },
    commitTransaction: async () => {
      calls.push('commit');
      inTransaction = false;
      const error = next(outcomes.commit);
      if (error !== null) throw error;
    },
  };
  const work = async (): Promise<void> => {
    calls.push('work');
    const error = next(outcomes.work);
    if (error !== null) throw error;
  };
  return { session, work, calls };
};

const clockStepping = (stepMs: number): TransactionClock & { pauses: number[] } => {
  let nowMs = 0;
  const pauses: number[] = [];
  return {
    pauses,
    nowMs: () => (nowMs += stepMs),
    pause: async (attempt) => void pauses.push(attempt),
  };
};

const run = (script: ReturnType<typeof scripted>, clock: TransactionClock, timeoutMs = 1_000) =>
  runTransaction(script.session, script.work, { transaction: {}, timeoutMs, clock });

describe('runTransaction', () => {
  it('commits at once when nothing fails', async () => {
    const script = scripted({ work: [null], commit: [null] });
    await run(script, clockStepping(1));
    expect(script.calls).toEqual(['start', 'work', 'commit']);
  });

  it('runs again after a TransientTransactionError, pausing between attempts', async () => {
    const transient = labelled(MongoErrorLabel.TransientTransactionError);
    const script = scripted({ work: [transient, transient, null], commit: [null] });
    const clock = clockStepping(1);
    await run(script, clock);
    expect(script.calls).toEqual([
      ...['start', 'work', 'abort'],
      ...['start', 'work', 'abort'],
      ...['start', 'work', 'commit'],
    ]);
    expect(clock.pauses).toEqual([1, 2]);
  });

  it('runs again when the commit fails with a TransientTransactionError', async () => {
    const transient = labelled(MongoErrorLabel.TransientTransactionError, 251);
    const script = scripted({ work: [null], commit: [transient, null] });
    await run(script, clockStepping(1));
    expect(script.calls).toEqual(['start', 'work', 'commit', 'start', 'work', 'commit']);
  });

  it('retries only the commit after an UnknownTransactionCommitResult', async () => {
    const unknown = labelled(MongoErrorLabel.UnknownTransactionCommitResult, 91);
    const script = scripted({ work: [null], commit: [unknown, null] });
    await run(script, clockStepping(1));
    expect(script.calls).toEqual(['start', 'work', 'commit', 'commit']);
  });

  it('gives up once its time is spent, however often the error says "try again"', async () => {
    const transient = new MongoNetworkError('connection reset');
    transient.addErrorLabel(MongoErrorLabel.TransientTransactionError);
    const script = scripted({ work: [transient], commit: [null] });
    // The clock moves 100 ms per look, one look to start and one per failure: the 10th failure
    // comes at the deadline (1,100 ms), and no 11th attempt starts.
    await expect(run(script, clockStepping(100))).rejects.toBe(transient);
    expect(script.calls.filter((call) => call === 'start')).toHaveLength(10);
    expect(toPortError(transient)).toBeInstanceOf(UnavailableError);
  });

  it('gives up on an unknown commit result once its time is spent', async () => {
    const unknown = labelled(MongoErrorLabel.UnknownTransactionCommitResult, 64);
    const script = scripted({ work: [null], commit: [unknown] });
    await expect(run(script, clockStepping(100))).rejects.toBe(unknown);
    expect(script.calls.filter((call) => call === 'commit')).toHaveLength(10);
    expect(toPortError(unknown)).toBeInstanceOf(UnavailableError);
  });

  it('retries neither a commit past maxCommitTimeMS nor an unlabelled error', async () => {
    const expired = labelled(MongoErrorLabel.UnknownTransactionCommitResult, 50);
    const expiring = scripted({ work: [null], commit: [expired] });
    await expect(run(expiring, clockStepping(1))).rejects.toBe(expired);
    expect(expiring.calls).toEqual(['start', 'work', 'commit']);
    const duplicate = new MongoServerError({ ok: 0, code: 11000, codeName: 'DuplicateKey' });
    const failing = scripted({ work: [duplicate], commit: [null] });
    await expect(run(failing, clockStepping(1))).rejects.toBe(duplicate);
    expect(failing.calls).toEqual(['start', 'work', 'abort']);
    expect(isOutage(duplicate)).toBe(false);
  });
});

describe('what counts as a MongoDB outage', () => {
  it('is a network error, a failover code or an outage label; anything else is a bug', () => {
    const notPrimary = new MongoServerError({ ok: 0, code: 10107, codeName: 'NotWritablePrimary' });
    expect(isOutage(new MongoNetworkError('connection reset'))).toBe(true);
    expect(isOutage(notPrimary)).toBe(true);
    expect(isOutage(labelled(MongoErrorLabel.TransientTransactionError, 251))).toBe(true);
    expect(isOutage(new MongoServerError({ ok: 0, code: 2, codeName: 'BadValue' }))).toBe(false);
    expect(isOutage(new Error('connection reset'))).toBe(false);
  });
});
