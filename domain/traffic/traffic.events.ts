import type { EventCodec, StoredEvent } from '../aggregate';
import { assert, AssertionError } from '../assert';
import {
  arrayField,
  booleanField,
  countField,
  jsonObject,
  stringArrayField,
  stringField,
} from '../json-fields';
import type { JsonObject, JsonValue } from '../ports/event-store.port';
import type {
  QuotaCrossing,
  RefusedUsage,
  Subscription,
  TrafficEvent,
  UsageRecord,
} from './traffic.model';

/**
 * The traffic shard's events as stored. Version 2 stores a report's usages as
 * `[userId, uploadBytes, downloadBytes]` triples instead of version 1's objects: the same facts in
 * about half the bytes, which every hash, store, read and relay of a 1,000-record report pays.
 * Version 1 events stay as they were written and are upcast here on read.
 */
const SCHEMA_VERSION = 2;

/** A version-2 usage: [userId, uploadBytes, downloadBytes]. */
type UsageTriple = [string, number, number];

const encode = (event: TrafficEvent): JsonObject => {
  if (event.type !== 'UsageReported') return event.data;
  const usages: UsageTriple[] = event.data.usages.map((usage) => [
    usage.userId,
    usage.uploadBytes,
    usage.downloadBytes,
  ]);
  return { ...event.data, usages };
};

const isCount = (value: JsonValue | undefined): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

const usageOf = (value: JsonValue): UsageRecord => {
  const usage = jsonObject(value, 'usage');
  const userId = stringField(usage, 'userId');
  const uploadBytes = countField(usage, 'uploadBytes');
  return { userId, uploadBytes, downloadBytes: countField(usage, 'downloadBytes') };
};

/**
 * A version-2 report's usages: one tight loop over the triples (a report holds up to thousands),
 * every field checked, the failing one named only when it fails.
 */
const usagesOfTriples = (values: readonly JsonValue[]): UsageRecord[] => {
  const usages = new Array<UsageRecord>(values.length);
  for (let index = 0; index < values.length; index += 1) {
    const triple = values[index];
    if (!Array.isArray(triple) || triple.length !== 3)
      throw new AssertionError(`usage (record ${index}): not [userId, upload, download]`);
    // Indexed reads: no iterator per record, as destructuring would make.
    const userId = triple[0];
    const uploadBytes = triple[1];
    const downloadBytes = triple[2];
    if (typeof userId !== 'string')
      throw new AssertionError(`usage userId (record ${index}): not a string`);
    if (!isCount(uploadBytes))
      throw new AssertionError(`usage upload (record ${index}): not a safe integer ≥ 0`);
    if (!isCount(downloadBytes))
      throw new AssertionError(`usage download (record ${index}): not a safe integer ≥ 0`);
    usages[index] = { userId, uploadBytes, downloadBytes };
  }
  return usages;
};

const refusedOf = (value: JsonValue): RefusedUsage => {
  const refused = jsonObject(value, 'refused');
  assert(refused['reason'] === 'usage_overflow', 'refused: unknown reason');
  return { userId: stringField(refused, 'userId'), reason: 'usage_overflow' };
};

const crossingOf = (value: JsonValue): QuotaCrossing => {
  const crossing = jsonObject(value, 'crossing');
  return {
    userId: stringField(crossing, 'userId'),
    usedBytes: countField(crossing, 'usedBytes'),
    quotaBytes: countField(crossing, 'quotaBytes'),
  };
};

/** A plan purchase's part of a grant (absent from grants that are not purchases). */
const subscriptionOf = (value: JsonValue | undefined): { subscription?: Subscription } => {
  if (value === undefined) return {};
  const subscription = jsonObject(value, 'subscription');
  return {
    subscription: {
      purchaseId: stringField(subscription, 'purchaseId'),
      planId: stringField(subscription, 'planId'),
      level: countField(subscription, 'level'),
      group: stringField(subscription, 'group'),
      amountMinor: countField(subscription, 'amountMinor'),
      currency: stringField(subscription, 'currency'),
      expiresAt: stringField(subscription, 'expiresAt'),
    },
  };
};

/** Every field checked: what the fold reads is what the union says. */
const parse = ({ type, data, metadata }: StoredEvent): TrafficEvent => {
  const { schemaVersion } = metadata;
  assert(schemaVersion === 1 || schemaVersion === SCHEMA_VERSION, `${type}: unknown schemaVersion`);
  switch (type) {
    case 'UsageReported':
      return {
        type,
        data: {
          reportId: stringField(data, 'reportId'),
          nodeId: stringField(data, 'nodeId'),
          usages:
            schemaVersion === 1
              ? arrayField(data, 'usages').map(usageOf)
              : usagesOfTriples(arrayField(data, 'usages')),
          refused: arrayField(data, 'refused').map(refusedOf),
          recordedAt: stringField(data, 'recordedAt'),
        },
      };
    case 'QuotasExceeded':
      return {
        type,
        data: {
          reportId: stringField(data, 'reportId'),
          users: arrayField(data, 'users').map(crossingOf),
          exceededAt: stringField(data, 'exceededAt'),
        },
      };
    case 'QuotaGranted':
      return {
        type,
        data: {
          userId: stringField(data, 'userId'),
          grantId: stringField(data, 'grantId'),
          quotaBytes: countField(data, 'quotaBytes'),
          reason: stringField(data, 'reason'),
          grantedAt: stringField(data, 'grantedAt'),
          ...subscriptionOf(data['subscription']),
        },
      };
    case 'QuotaReset':
      return {
        type,
        data: {
          userId: stringField(data, 'userId'),
          resetId: stringField(data, 'resetId'),
          quotaBytes: countField(data, 'quotaBytes'),
          resetAt: stringField(data, 'resetAt'),
        },
      };
    case 'UserImported':
      return {
        type,
        data: {
          userId: stringField(data, 'userId'),
          quotaBytes: countField(data, 'quotaBytes'),
          uploadBytes: countField(data, 'uploadBytes'),
          downloadBytes: countField(data, 'downloadBytes'),
          exceeded: booleanField(data, 'exceeded'),
          grantIds: stringArrayField(data, 'grantIds'),
          resetIds: stringArrayField(data, 'resetIds'),
          sourceStream: stringField(data, 'sourceStream'),
          sourceRevision: countField(data, 'sourceRevision'),
          importedAt: stringField(data, 'importedAt'),
        },
      };
    default:
      throw new AssertionError(`trafficshard: unknown event type ${type}`);
  }
};

export const trafficEventCodec: EventCodec<TrafficEvent> = {
  schemaVersion: SCHEMA_VERSION,
  encode,
  parse,
};
