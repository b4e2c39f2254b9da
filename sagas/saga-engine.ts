import type { ActorRuntime, CommandContext } from '../domain/actors/actor-runtime';
import { assert } from '../domain/assert';
import type { JsonObject } from '../domain/ports/event-store.port';
import {
  sagaAggregate,
  sagaKey,
  sagaOutputs,
  type StepResultCommand,
  type SagaCommand,
  type SagaEvent,
  type SagaRecord,
  type SagaState,
} from '../domain/saga/saga.decider';
import type { SagaDefinition, StepContext, StepResult } from './saga-definition';

/**
 * Runs saga instances step by step. Every decision is recorded on the saga's stream before the
 * next step runs, so a crash resumes exactly where the log says; steps are idempotent, so the
 * step that was running at the crash may run again harmlessly. Transient failures are retried
 * with exponential back-off and jitter; too many, or a permanent failure, start the compensations
 * in reverse order. A step that keeps throwing (a bug, an outage) dead-letters the saga.
 */
type SagaEngineLimits = {
  /** Failed attempts of one step before giving up on it. */
  stepAttemptCountMax: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Steps run in one drive before yielding (bounds one call; the sweeper continues). */
  driveStepCountMax: number;
};

type SagaEngineDeps = {
  runtime: ActorRuntime;
  definitions: readonly SagaDefinition[];
  limits: SagaEngineLimits;
  clock: () => number;
  /** In [0, 1): the retry jitter. */
  random: () => number;
  /** A saga was parked as dead-lettered: publish the reason (best effort). */
  onDeadLetter: (saga: { sagaName: string; sagaId: string; reason: string }) => Promise<void>;
  /** A step failed transiently and is deferred for another attempt (metrics). */
  onRetry?: (saga: { sagaName: string; sagaId: string }) => void;
};

export type SagaEngine = ReturnType<typeof createSagaEngine>;

const sagaActor = (sagaName: string) => ({
  clientId: `system:saga-${sagaName}`,
  role: 'system',
  ip: null,
});

export const createSagaEngine = (deps: SagaEngineDeps) => {
  const { runtime, limits } = deps;
  const definitions = new Map(deps.definitions.map((definition) => [definition.name, definition]));
  const tails = new Map<string, Promise<unknown>>();

  const exclusive = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const result = (tails.get(key) ?? Promise.resolve()).then(work, work);
    const tail = result.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => tails.get(key) === tail && tails.delete(key));
    return result;
  };

  const context = (sagaName: string, key: string, nowMs: number, seed: string): CommandContext => ({
    correlationId: `saga-${key}`,
    causationId: null,
    actor: sagaActor(sagaName),
    idempotencyKey: null,
    now: new Date(nowMs).toISOString(),
    eventIdSeed: seed,
  });

  /** Appends a saga command; a stale one (another driver got there first) is simply dropped. */
  const record = async (
    saga: SagaRecord,
    revision: number | null,
    command: SagaCommand,
    nowMs: number,
  ): Promise<void> => {
    const key = sagaKey(saga.sagaName, saga.sagaId);
    const seed = `saga-${key}@${(revision ?? -1) + 1}`;
    const outcome = await runtime.execute(
      sagaAggregate,
      key,
      command,
      context(saga.sagaName, key, nowMs, seed),
    );
    assert(
      outcome.ok || outcome.rejection === 'saga_step_stale',
      `saga ${key}: ${command.type} refused: ${outcome.ok ? '' : outcome.rejection}`,
    );
  };

  const retryDelayMs = (attempt: number): number => {
    const delayMs = Math.min(limits.retryMaxMs, limits.retryBaseMs * 2 ** (attempt - 1));
    return Math.round(delayMs / 2 + (deps.random() * delayMs) / 2);
  };

  /** Runs one step (or its compensation) of a saga at `cursor`; a throw comes back as an error. */
  const runStepAt = async (
    definition: SagaDefinition,
    saga: Pick<SagaRecord, 'sagaName' | 'sagaId' | 'input' | 'cursor'> & {
      status: SagaRecord['status'];
      outputs: JsonObject;
    },
    nowMs: number,
  ): Promise<StepResult | { kind: 'error'; reason: string }> => {
    const step = definition.steps[saga.cursor];
    assert(step !== undefined, `saga ${definition.name}: no step ${saga.cursor}`);
    const run = saga.status === 'running' ? step.run : step.compensate;
    if (run === undefined) return { kind: 'done' };
    const key = sagaKey(saga.sagaName, saga.sagaId);
    const stepContext: StepContext = {
      sagaId: saga.sagaId,
      input: saga.input,
      outputs: saga.outputs,
      nowMs,
      commandContext: (label) => context(saga.sagaName, key, nowMs, `saga-${key}:${label}`),
    };
    try {
      return await run(stepContext);
    } catch (error: unknown) {
      return {
        kind: 'error',
        reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
  };

  const runStep = (definition: SagaDefinition, saga: SagaRecord, nowMs: number) =>
    runStepAt(definition, { ...saga, outputs: sagaOutputs(saga) }, nowMs);

  /** Turns a step's result into the saga command that records it. */
  const commandFor = async (
    saga: SagaRecord,
    result: StepResult | { kind: 'error'; reason: string },
    nowMs: number,
  ): Promise<StepResultCommand> => {
    const ref = {
      phase: saga.status as 'running' | 'compensating',
      cursor: saga.cursor,
      now: new Date(nowMs).toISOString(),
    };
    switch (result.kind) {
      case 'done':
        return {
          type: 'RecordStepCompleted',
          data: { ...ref, output: result.output ?? {}, finish: result.finish ?? false },
        };
      case 'wait':
        return {
          type: 'RecordStepDeferred',
          data: {
            ...ref,
            counted: false,
            reason: null,
            nextRunAt: new Date(result.untilMs).toISOString(),
          },
        };
      case 'permanent':
        return { type: 'RecordStepFailed', data: { ...ref, reason: result.reason } };
      case 'transient':
      case 'error': {
        const attempt = saga.attemptCount + 1;
        if (attempt < limits.stepAttemptCountMax) {
          deps.onRetry?.({ sagaName: saga.sagaName, sagaId: saga.sagaId });
          return {
            type: 'RecordStepDeferred',
            data: {
              ...ref,
              counted: true,
              reason: result.reason,
              nextRunAt: new Date(nowMs + retryDelayMs(attempt)).toISOString(),
            },
          };
        }
        // Retrying a step that throws, or a compensation, any longer cannot help: a human looks.
        if (result.kind === 'error' || saga.status === 'compensating') {
          const reason = `${result.reason} (after ${attempt} attempts)`;
          await deps
            .onDeadLetter({ sagaName: saga.sagaName, sagaId: saga.sagaId, reason })
            .catch(() => undefined);
          return { type: 'DeadLetterSaga', data: { reason, now: ref.now } };
        }
        return {
          type: 'RecordStepFailed',
          data: { ...ref, reason: `retries_exhausted: ${result.reason}` },
        };
      }
    }
  };

  /** The command recording a first step's result on a fresh saga (running, step 0, attempt 0). */
  const firstStepCommandFor = (
    start: Extract<SagaCommand, { type: 'StartSaga' }>['data'],
    result: StepResult | { kind: 'error'; reason: string },
    nowMs: number,
  ): Promise<StepResultCommand> => {
    const { now, ...fields } = start;
    const started: SagaEvent = { type: 'SagaStarted', data: { ...fields, startedAt: now } };
    const fresh = sagaAggregate.evolve(sagaAggregate.initialState, started);
    assert(fresh.status === 'running', `saga ${start.sagaName}: a fresh saga is running`);
    return commandFor(fresh, result, nowMs);
  };

  const driveOnce = async (
    definition: SagaDefinition,
    sagaId: string,
    wake: boolean,
  ): Promise<SagaState> => {
    const key = sagaKey(definition.name, sagaId);
    let wakeLeft = wake;
    for (let stepCount = 0; stepCount < limits.driveStepCountMax; stepCount += 1) {
      const { state, revision } = await runtime.read(sagaAggregate, key);
      if (state.status !== 'running' && state.status !== 'compensating') return state;
      const nowMs = deps.clock();
      const early = state.nextRunAt !== null && Date.parse(state.nextRunAt) > nowMs;
      if (early && !(wakeLeft && state.waitingOnTimer)) return state;
      wakeLeft = false;
      const result = await runStep(definition, state, nowMs);
      if (early && result.kind === 'wait') return state; // Woken, but still waiting: keep the timer.
      await record(state, revision, await commandFor(state, result, nowMs), nowMs);
    }
    return (await runtime.read(sagaAggregate, key)).state;
  };

  const definitionOf = (sagaName: string): SagaDefinition => {
    const definition = definitions.get(sagaName);
    assert(definition !== undefined, `no saga named ${sagaName}`);
    return definition;
  };

  return {
    definitions: deps.definitions,
    /**
     * Starts the instance (a no-op when it exists) and drives it. A saga whose work was done
     * without it is not started: the answer is then the state of no saga.
     */
    start: (sagaName: string, sagaId: string, input: JsonObject): Promise<SagaState> => {
      const definition = definitionOf(sagaName);
      const key = sagaKey(sagaName, sagaId);
      return exclusive(key, async () => {
        if ((await definition.doneWithout?.(input)) === true) return sagaAggregate.initialState;
        const nowMs = deps.clock();
        const stepNames = definition.steps.map((step) => step.name);
        const start = { sagaName, sagaId, input, stepNames, now: new Date(nowMs).toISOString() };
        const startContext = context(sagaName, key, nowMs, `saga-${key}:start`);
        let command: SagaCommand = { type: 'StartSaga', data: start };
        if (definition.firstStepBesideStart === true) {
          // The first step's commands go out at once, and the saga is recorded once, with their
          // result: one append for the start and the step (on an existing saga, the start only).
          const fresh = { sagaName, sagaId, input, cursor: 0, status: 'running' as const };
          const result = await runStepAt(definition, { ...fresh, outputs: {} }, nowMs);
          const firstStep = await firstStepCommandFor(start, result, nowMs);
          command = { type: 'StartSagaWithFirstStep', data: { start, firstStep } };
        }
        const outcome = await runtime.execute(sagaAggregate, key, command, startContext);
        assert(outcome.ok, `saga ${key}: start refused (${outcome.ok ? '' : outcome.rejection})`);
        return driveOnce(definition, sagaId, false);
      });
    },
    /**
     * Runs whatever is due; `wake` also runs a step waiting on a timer. A wake the definition
     * rules out (`wakes` false: no instance can exist) reads nothing: the state of no saga.
     */
    drive: (
      sagaName: string,
      sagaId: string,
      options: { wake: boolean } = { wake: false },
    ): Promise<SagaState> => {
      const definition = definitionOf(sagaName);
      return exclusive(sagaKey(sagaName, sagaId), async () =>
        options.wake && (await definition.wakes?.(sagaId)) === false
          ? sagaAggregate.initialState
          : driveOnce(definition, sagaId, options.wake),
      );
    },
    /** Moves a dead-lettered saga back to where it stopped, with fresh attempts, and drives it. */
    retry: (sagaName: string, sagaId: string, retryContext: CommandContext) => {
      const definition = definitionOf(sagaName);
      const key = sagaKey(sagaName, sagaId);
      return exclusive(key, async () => {
        const outcome = await runtime.execute(
          sagaAggregate,
          key,
          { type: 'RetrySaga', data: { now: retryContext.now } },
          retryContext,
        );
        if (!outcome.ok) return outcome;
        return { ...outcome, state: await driveOnce(definition, sagaId, false) };
      });
    },
  };
};
