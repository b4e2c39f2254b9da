import type { Aggregate } from '../aggregate';
import { assert } from '../assert';
import { accept, reject } from '../decision';
import { sagaEventCodec } from './saga.events';
import {
  type SagaCommand,
  type SagaDecision,
  type SagaEvent,
  type SagaRecord,
  type SagaRejection,
  type SagaState,
  type SagaStep,
} from './saga.model';

export * from './saga.model';

type Data<Type extends SagaCommand['type']> = Extract<SagaCommand, { type: Type }>['data'];

const decideStart = (data: Data<'StartSaga'>, state: SagaState): SagaDecision => {
  const { now, ...fields } = data;
  assert(fields.stepNames.length > 0, 'StartSaga: a saga has at least one step');
  if (state.status !== 'none') {
    // Triggers arrive more than once (relay, sweeper, redelivery): the same start is a no-op.
    const same = JSON.stringify(state.input) === JSON.stringify(fields.input);
    return same ? accept() : reject('saga_already_exists', { field: 'input' });
  }
  return accept({ type: 'SagaStarted', data: { ...fields, startedAt: now } });
};

/** The saga is still at the step and phase the command was decided for. */
const isCurrent = (saga: SagaRecord, ref: { phase: string; cursor: number }): boolean =>
  saga.status === ref.phase && saga.cursor === ref.cursor;

const decideOnStep = (
  command: Exclude<
    SagaCommand,
    { type: 'StartSaga' | 'StartSagaWithFirstStep' | 'DeadLetterSaga' | 'RetrySaga' }
  >,
  saga: SagaRecord,
): SagaDecision => {
  if (!isCurrent(saga, command.data))
    return reject('saga_step_stale', { status: saga.status, cursor: saga.cursor });
  const { cursor: index, now } = command.data;
  switch (command.type) {
    case 'RecordStepCompleted': {
      if (saga.status === 'compensating') {
        const compensated: SagaEvent = {
          type: 'SagaStepCompensated',
          data: { index, compensatedAt: now },
        };
        if (index > 0) return accept(compensated);
        return accept<SagaEvent>(compensated, {
          type: 'SagaCompensated',
          data: { compensatedAt: now },
        });
      }
      const completed: SagaEvent = {
        type: 'SagaStepCompleted',
        data: { index, output: command.data.output, completedAt: now },
      };
      if (!command.data.finish && index + 1 < saga.steps.length) return accept(completed);
      return accept<SagaEvent>(completed, { type: 'SagaCompleted', data: { completedAt: now } });
    }
    case 'RecordStepDeferred': {
      const { counted, reason, nextRunAt } = command.data;
      return accept({
        type: 'SagaStepDeferred',
        data: { index, counted, reason, nextRunAt, deferredAt: now },
      });
    }
    case 'RecordStepFailed': {
      const { reason } = command.data;
      if (saga.status === 'compensating')
        return accept({ type: 'SagaFailed', data: { index, reason, failedAt: now } });
      const started: SagaEvent = {
        type: 'SagaCompensationStarted',
        data: { index, reason, startedAt: now },
      };
      // Nothing completed before the failing step: there is nothing to undo.
      if (index > 0) return accept(started);
      return accept<SagaEvent>(started, { type: 'SagaCompensated', data: { compensatedAt: now } });
    }
  }
};

/** A fresh saga: started and its first step's result recorded, decided as two commands in a row. */
const decideStartWithFirstStep = (
  data: Data<'StartSagaWithFirstStep'>,
  state: SagaState,
): SagaDecision => {
  const started = decideStart(data.start, state);
  if (!started.ok || state.status !== 'none') return started;
  const evolved = started.events.reduce(evolve, state);
  const recorded = decide(data.firstStep, evolved);
  // A fresh saga is running at step 0: every first-step command is current there.
  assert(recorded.ok, `StartSagaWithFirstStep: first step refused on a fresh saga`);
  return accept(...started.events, ...recorded.events);
};

const decide = (command: SagaCommand, state: SagaState): SagaDecision => {
  if (command.type === 'StartSaga') return decideStart(command.data, state);
  if (command.type === 'StartSagaWithFirstStep')
    return decideStartWithFirstStep(command.data, state);
  if (state.status === 'none') return reject('saga_not_found');
  switch (command.type) {
    case 'DeadLetterSaga':
      if (state.status === 'dead_lettered') return accept();
      if (state.status !== 'running' && state.status !== 'compensating')
        return reject('saga_step_stale', { status: state.status });
      return accept({
        type: 'SagaDeadLettered',
        data: { reason: command.data.reason, deadLetteredAt: command.data.now },
      });
    case 'RetrySaga':
      if (state.status !== 'dead_lettered')
        return reject('saga_not_dead_lettered', { status: state.status });
      return accept({ type: 'SagaRetried', data: { retriedAt: command.data.now } });
    default:
      return decideOnStep(command, state);
  }
};

const withStep = (
  saga: SagaRecord,
  index: number,
  change: (step: SagaStep) => SagaStep,
): readonly SagaStep[] => {
  const step = saga.steps[index];
  assert(step !== undefined, `saga ${saga.sagaName}-${saga.sagaId}: no step ${index}`);
  return saga.steps.map((current, at) => (at === index ? change(current) : current));
};

const moved = (
  at: string,
): Pick<SagaRecord, 'attemptCount' | 'nextRunAt' | 'waitingOnTimer' | 'updatedAt'> => ({
  attemptCount: 0,
  nextRunAt: null,
  waitingOnTimer: false,
  updatedAt: at,
});

const evolveRecord = (
  saga: SagaRecord,
  event: Exclude<SagaEvent, { type: 'SagaStarted' }>,
): SagaRecord => {
  switch (event.type) {
    case 'SagaStepCompleted': {
      const { index, output, completedAt } = event.data;
      assert(
        saga.status === 'running' && saga.cursor === index,
        'SagaStepCompleted: not the current step',
      );
      const steps = withStep(saga, index, (step) => ({
        ...step,
        status: 'completed',
        output,
        lastError: null,
      }));
      return { ...saga, ...moved(completedAt), steps, cursor: index + 1 };
    }
    case 'SagaCompleted':
      assert(saga.status === 'running', 'SagaCompleted: not running');
      return { ...saga, status: 'completed', nextRunAt: null, updatedAt: event.data.completedAt };
    case 'SagaStepDeferred': {
      const { index, counted, reason, nextRunAt, deferredAt } = event.data;
      assert(
        saga.cursor === index && (saga.status === 'running' || saga.status === 'compensating'),
        'SagaStepDeferred: not the current step',
      );
      const steps = counted
        ? withStep(saga, index, (step) => ({
            ...step,
            retryCount: step.retryCount + 1,
            lastError: reason,
          }))
        : saga.steps;
      return {
        ...saga,
        steps,
        attemptCount: saga.attemptCount + (counted ? 1 : 0),
        nextRunAt,
        waitingOnTimer: !counted,
        updatedAt: deferredAt,
      };
    }
    case 'SagaCompensationStarted': {
      const { index, reason, startedAt } = event.data;
      assert(
        saga.status === 'running' && saga.cursor === index,
        'SagaCompensationStarted: not the current step',
      );
      const steps = withStep(saga, index, (step) => ({ ...step, lastError: reason }));
      return {
        ...saga,
        ...moved(startedAt),
        status: 'compensating',
        steps,
        cursor: index - 1,
        reason,
      };
    }
    case 'SagaStepCompensated': {
      const { index, compensatedAt } = event.data;
      assert(
        saga.status === 'compensating' && saga.cursor === index,
        'SagaStepCompensated: not the current step',
      );
      const steps = withStep(saga, index, (step) => ({ ...step, status: 'compensated' }));
      return { ...saga, ...moved(compensatedAt), steps, cursor: index - 1 };
    }
    case 'SagaCompensated':
      assert(saga.status === 'compensating', 'SagaCompensated: not compensating');
      return {
        ...saga,
        status: 'compensated',
        nextRunAt: null,
        updatedAt: event.data.compensatedAt,
      };
    case 'SagaFailed':
      assert(saga.status === 'compensating', 'SagaFailed: not compensating');
      return {
        ...saga,
        status: 'failed',
        nextRunAt: null,
        reason: event.data.reason,
        updatedAt: event.data.failedAt,
      };
    case 'SagaDeadLettered': {
      assert(
        saga.status === 'running' || saga.status === 'compensating',
        'SagaDeadLettered: not active',
      );
      const { reason, deadLetteredAt } = event.data;
      return {
        ...saga,
        status: 'dead_lettered',
        parkedPhase: saga.status,
        reason,
        nextRunAt: null,
        updatedAt: deadLetteredAt,
      };
    }
    case 'SagaRetried':
      assert(
        saga.status === 'dead_lettered' && saga.parkedPhase !== null,
        'SagaRetried: not dead-lettered',
      );
      return {
        ...saga,
        ...moved(event.data.retriedAt),
        status: saga.parkedPhase,
        parkedPhase: null,
      };
  }
};

const evolve = (state: SagaState, event: SagaEvent): SagaState => {
  if (event.type === 'SagaStarted') {
    assert(state.status === 'none', 'SagaStarted: started twice');
    const { sagaName, sagaId, input, stepNames, startedAt } = event.data;
    const steps = stepNames.map((name): SagaStep => ({
      name,
      status: 'pending',
      retryCount: 0,
      lastError: null,
      output: null,
    }));
    return {
      status: 'running',
      sagaName,
      sagaId,
      input,
      steps,
      cursor: 0,
      attemptCount: 0,
      nextRunAt: null,
      waitingOnTimer: false,
      reason: null,
      parkedPhase: null,
      startedAt,
      updatedAt: startedAt,
    };
  }
  assert(state.status !== 'none', `${event.type}: saga not started`);
  return evolveRecord(state, event);
};

export const sagaAggregate: Aggregate<SagaCommand, SagaEvent, SagaState, SagaRejection> = {
  category: 'saga',
  initialState: { status: 'none' },
  decide,
  evolve,
  eventCodec: sagaEventCodec,
};
