import type { SagaRecord, SagaStatus } from '../saga/saga.model';

/** The saga list behind GET /v1/sagas: instances by status and name, newest change first. */
export type SagaListQuery = {
  status: SagaStatus | null;
  sagaName: string | null;
  pageNum: number;
  pageSize: number;
};

export interface SagaQuery {
  /** One page of instances matching the filter, and how many match in all. */
  list(query: SagaListQuery): Promise<{ sagas: readonly SagaRecord[]; totalCount: number }>;
  /** The saga names this service runs. */
  sagaNames(): readonly string[];
}
