import { sagaAggregate, type SagaEvent } from '../../../domain/saga/saga.decider';
import { deciderSpec } from '../../support/decider-spec';

const now = '2026-01-01T00:00:00.000Z';
const started: SagaEvent = {
  type: 'SagaStarted',
  data: {
    sagaName: 'refund',
    sagaId: 'p_r',
    input: { paymentId: 'p' },
    stepNames: ['reserve', 'ask', 'post'],
    startedAt: now,
  },
};
const firstDone: SagaEvent = {
  type: 'SagaStepCompleted',
  data: { index: 0, output: { held: true }, completedAt: now },
};
const given = deciderSpec(sagaAggregate);

describe('saga decider', () => {
  it('starts once; the same start again is a no-op, another input is refused', () => {
    given([])
      .when({
        type: 'StartSaga',
        data: {
          sagaName: 'refund',
          sagaId: 'p_r',
          input: { paymentId: 'p' },
          stepNames: ['reserve', 'ask', 'post'],
          now,
        },
      })
      .then([started]);
    given([started])
      .when({
        type: 'StartSaga',
        data: {
          sagaName: 'refund',
          sagaId: 'p_r',
          input: { paymentId: 'p' },
          stepNames: ['reserve'],
          now,
        },
      })
      .then([]);
    given([started])
      .when({
        type: 'StartSaga',
        data: {
          sagaName: 'refund',
          sagaId: 'p_r',
          input: { paymentId: 'q' },
          stepNames: ['reserve'],
          now,
        },
      })
      .thenRejects('saga_already_exists');
  });

  it('starts with the first step recorded in one decision; on an existing saga only the start counts', () => {
    const start = {
      sagaName: 'refund',
      sagaId: 'p_r',
      input: { paymentId: 'p' },
      stepNames: ['reserve', 'ask', 'post'],
      now,
    };
    const firstStep = {
      type: 'RecordStepCompleted' as const,
      data: { phase: 'running' as const, cursor: 0, output: { held: true }, finish: false, now },
    };
    given([])
      .when({ type: 'StartSagaWithFirstStep', data: { start, firstStep } })
      .then([started, firstDone]);
    given([started]).when({ type: 'StartSagaWithFirstStep', data: { start, firstStep } }).then([]);
    given([started])
      .when({
        type: 'StartSagaWithFirstStep',
        data: { start: { ...start, input: { paymentId: 'q' } }, firstStep },
      })
      .thenRejects('saga_already_exists');
  });

  it('refuses a step result decided for another cursor (a stale driver)', () => {
    given([started, firstDone])
      .when({
        type: 'RecordStepCompleted',
        data: { phase: 'running', cursor: 0, output: {}, finish: false, now },
      })
      .thenRejects('saga_step_stale');
  });

  it('completes after the last step, or early on finish', () => {
    given([started])
      .when({
        type: 'RecordStepCompleted',
        data: { phase: 'running', cursor: 0, output: {}, finish: true, now },
      })
      .then([
        { type: 'SagaStepCompleted', data: { index: 0, output: {}, completedAt: now } },
        { type: 'SagaCompleted', data: { completedAt: now } },
      ]);
  });

  it('starts compensating at the completed step before the one that failed; with none, is compensated at once', () => {
    given([started, firstDone])
      .when({
        type: 'RecordStepFailed',
        data: { phase: 'running', cursor: 1, reason: 'refused', now },
      })
      .then([
        { type: 'SagaCompensationStarted', data: { index: 1, reason: 'refused', startedAt: now } },
      ]);
    given([started])
      .when({
        type: 'RecordStepFailed',
        data: { phase: 'running', cursor: 0, reason: 'refused', now },
      })
      .then([
        { type: 'SagaCompensationStarted', data: { index: 0, reason: 'refused', startedAt: now } },
        { type: 'SagaCompensated', data: { compensatedAt: now } },
      ]);
  });

  it('fails when a compensation fails for good', () => {
    const compensating: SagaEvent = {
      type: 'SagaCompensationStarted',
      data: { index: 1, reason: 'refused', startedAt: now },
    };
    given([started, firstDone, compensating])
      .when({
        type: 'RecordStepFailed',
        data: { phase: 'compensating', cursor: 0, reason: 'stuck', now },
      })
      .then([{ type: 'SagaFailed', data: { index: 0, reason: 'stuck', failedAt: now } }]);
  });

  it('retries only a dead-lettered saga, resuming its phase', () => {
    given([started])
      .when({ type: 'RetrySaga', data: { now } })
      .thenRejects('saga_not_dead_lettered');
    const parked: SagaEvent = {
      type: 'SagaDeadLettered',
      data: { reason: 'boom', deadLetteredAt: now },
    };
    given([started, parked])
      .when({ type: 'RetrySaga', data: { now } })
      .then([{ type: 'SagaRetried', data: { retriedAt: now } }]);
    given([]).when({ type: 'RetrySaga', data: { now } }).thenRejects('saga_not_found');
  });
});
