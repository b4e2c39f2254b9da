import type { Decision } from '../decision';
import type { JsonObject } from '../ports/event-store.port';

/**
 * A saga instance's durable state, stream saga-<sagaName>-<sagaId>: which step it is on, how
 * often that step was tried, when it runs next (retry back-off or timer), and, once a step failed
 * for good, which completed steps are still to be compensated (in reverse order).
 */
export type SagaStatus =
  'running' | 'compensating' | 'completed' | 'compensated' | 'failed' | 'dead_lettered';
export const sagaStatuses: readonly SagaStatus[] = [
  'running',
  'compensating',
  'completed',
  'compensated',
  'failed',
  'dead_lettered',
];
type ActivePhase = 'running' | 'compensating';
type At = { now: string };
/** Commands about a step name the phase and cursor they were decided for, so stale ones are refused. */
type StepRef = { phase: ActivePhase; cursor: number };

export type SagaCommand =
  | {
      type: 'StartSaga';
      data: StartData;
    }
  | { type: 'RecordStepCompleted'; data: StepRef & { output: JsonObject; finish: boolean } & At }
  | {
      type: 'RecordStepDeferred';
      data: StepRef & { counted: boolean; reason: string | null; nextRunAt: string } & At;
    }
  | { type: 'RecordStepFailed'; data: StepRef & { reason: string } & At }
  | { type: 'DeadLetterSaga'; data: { reason: string } & At }
  | { type: 'RetrySaga'; data: At }
  | {
      /**
       * A start with the result of its first step, run before it (the step needs nothing the
       * saga recorded): one append instead of two. On an existing saga only the start counts.
       */
      type: 'StartSagaWithFirstStep';
      data: { start: StartData; firstStep: StepResultCommand };
    };

type StartData = { sagaName: string; sagaId: string; input: JsonObject; stepNames: string[] } & At;

/** What a step's result is recorded as: a step outcome or a dead letter. */
export type StepResultCommand = Extract<
  SagaCommand,
  { type: 'RecordStepCompleted' | 'RecordStepDeferred' | 'RecordStepFailed' | 'DeadLetterSaga' }
>;

export type SagaEvent =
  | {
      type: 'SagaStarted';
      data: {
        sagaName: string;
        sagaId: string;
        input: JsonObject;
        stepNames: string[];
        startedAt: string;
      };
    }
  | { type: 'SagaStepCompleted'; data: { index: number; output: JsonObject; completedAt: string } }
  | { type: 'SagaCompleted'; data: { completedAt: string } }
  | {
      type: 'SagaStepDeferred';
      data: {
        index: number;
        counted: boolean;
        reason: string | null;
        nextRunAt: string;
        deferredAt: string;
      };
    }
  | { type: 'SagaCompensationStarted'; data: { index: number; reason: string; startedAt: string } }
  | { type: 'SagaStepCompensated'; data: { index: number; compensatedAt: string } }
  | { type: 'SagaCompensated'; data: { compensatedAt: string } }
  | { type: 'SagaFailed'; data: { index: number; reason: string; failedAt: string } }
  | { type: 'SagaDeadLettered'; data: { reason: string; deadLetteredAt: string } }
  | { type: 'SagaRetried'; data: { retriedAt: string } };

export type SagaStep = {
  name: string;
  status: 'pending' | 'completed' | 'compensated';
  /** Every deferral that counted as a failed attempt, both phases together. */
  retryCount: number;
  lastError: string | null;
  output: JsonObject | null;
};

export type SagaRecord = {
  status: SagaStatus;
  sagaName: string;
  sagaId: string;
  input: JsonObject;
  steps: readonly SagaStep[];
  /** running: the step to run; compensating: the completed step to compensate next. */
  cursor: number;
  /** Failed attempts at the cursor in this phase; reset when the cursor or the phase moves. */
  attemptCount: number;
  nextRunAt: string | null;
  /** nextRunAt is a timer (a wait), not a retry back-off: a wake-up event may run the step early. */
  waitingOnTimer: boolean;
  reason: string | null;
  /** The phase a dead-lettered saga resumes in when retried. */
  parkedPhase: ActivePhase | null;
  startedAt: string;
  updatedAt: string;
};
export type SagaState = { status: 'none' } | SagaRecord;

export const sagaRejections = [
  'saga_not_found',
  'saga_already_exists',
  'saga_step_stale',
  'saga_not_dead_lettered',
] as const;
export type SagaRejection = (typeof sagaRejections)[number];
export type SagaDecision = Decision<SagaEvent, SagaRejection>;

/** The aggregate id of a saga instance: its stream is saga-<sagaName>-<sagaId>. */
export const sagaKey = (sagaName: string, sagaId: string): string => `${sagaName}-${sagaId}`;

/** Outputs of the completed steps merged in order: what later steps and compensations read. */
export const sagaOutputs = (saga: SagaRecord): JsonObject =>
  saga.steps.reduce<JsonObject>((merged, step) => ({ ...merged, ...(step.output ?? {}) }), {});

export const isFinal = (status: SagaStatus): boolean =>
  status === 'completed' || status === 'compensated' || status === 'failed';
