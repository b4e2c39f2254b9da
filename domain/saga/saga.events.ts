import type { EventCodec, StoredEvent } from '../aggregate';
import { AssertionError } from '../assert';
import {
  assertVersionOne,
  booleanField,
  countField,
  jsonObject,
  nullableStringField,
  stringArrayField,
  stringField,
} from '../json-fields';
import type { SagaEvent } from './saga.model';

/** A saga's events as stored: version 1, every field checked on read. */
const parse = ({ type, data, metadata }: StoredEvent): SagaEvent => {
  assertVersionOne(type, metadata.schemaVersion);
  const index = (): number => countField(data, 'index');
  switch (type) {
    case 'SagaStarted':
      return {
        type,
        data: {
          sagaName: stringField(data, 'sagaName'),
          sagaId: stringField(data, 'sagaId'),
          input: jsonObject(data['input'], 'input'),
          stepNames: stringArrayField(data, 'stepNames'),
          startedAt: stringField(data, 'startedAt'),
        },
      };
    case 'SagaStepCompleted':
      return {
        type,
        data: {
          index: index(),
          output: jsonObject(data['output'], 'output'),
          completedAt: stringField(data, 'completedAt'),
        },
      };
    case 'SagaCompleted':
      return { type, data: { completedAt: stringField(data, 'completedAt') } };
    case 'SagaStepDeferred':
      return {
        type,
        data: {
          index: index(),
          counted: booleanField(data, 'counted'),
          reason: nullableStringField(data, 'reason'),
          nextRunAt: stringField(data, 'nextRunAt'),
          deferredAt: stringField(data, 'deferredAt'),
        },
      };
    case 'SagaCompensationStarted':
      return {
        type,
        data: {
          index: index(),
          reason: stringField(data, 'reason'),
          startedAt: stringField(data, 'startedAt'),
        },
      };
    case 'SagaStepCompensated':
      return {
        type,
        data: { index: index(), compensatedAt: stringField(data, 'compensatedAt') },
      };
    case 'SagaCompensated':
      return { type, data: { compensatedAt: stringField(data, 'compensatedAt') } };
    case 'SagaFailed':
      return {
        type,
        data: {
          index: index(),
          reason: stringField(data, 'reason'),
          failedAt: stringField(data, 'failedAt'),
        },
      };
    case 'SagaDeadLettered':
      return {
        type,
        data: {
          reason: stringField(data, 'reason'),
          deadLetteredAt: stringField(data, 'deadLetteredAt'),
        },
      };
    case 'SagaRetried':
      return { type, data: { retriedAt: stringField(data, 'retriedAt') } };
    default:
      throw new AssertionError(`saga: unknown event type ${type}`);
  }
};

export const sagaEventCodec: EventCodec<SagaEvent> = {
  schemaVersion: 1,
  encode: (event) => event.data,
  parse,
};
