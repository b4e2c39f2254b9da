import type { SagaRecord } from '../../domain/saga/saga.model';

/** The JSON shape of a saga instance: status, steps with retry counts, next retry time. */
export const sagaView = (saga: SagaRecord) => ({
  sagaName: saga.sagaName,
  sagaId: saga.sagaId,
  status: saga.status,
  input: saga.input,
  steps: saga.steps.map(({ name, status, retryCount, lastError }) => ({
    name,
    status,
    retryCount,
    lastError,
  })),
  currentStep: saga.steps[saga.cursor]?.name ?? null,
  nextRetryAt: saga.waitingOnTimer ? null : saga.nextRunAt,
  timerAt: saga.waitingOnTimer ? saga.nextRunAt : null,
  reason: saga.reason,
  startedAt: saga.startedAt,
  updatedAt: saga.updatedAt,
  statusUrl: sagaStatusUrl(saga.sagaName, saga.sagaId),
});

export const sagaStatusUrl = (sagaName: string, sagaId: string): string =>
  `/v1/sagas/${sagaName}/${encodeURIComponent(sagaId)}`;
