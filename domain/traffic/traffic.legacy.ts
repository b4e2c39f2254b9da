import { assert } from '../assert';
import { countField, stringField } from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';
import { trafficUserChangesOf } from './traffic.decider';
import { initialTrafficUserState, type TrafficEvent, type TrafficUserState } from './traffic.model';

/**
 * Streams `traffic-<userId>` were the layout before the shards (one stream per user). They stay
 * in the log untouched; at start the service imports each one's final state into its shard once
 * (bin/legacy-traffic-import.ts). This is the fold of their four event types, as they were written.
 */
export const LEGACY_TRAFFIC_CATEGORY = 'traffic';

/** A legacy event as the shard event that says the same of this one user. */
const asShardEvent = (userId: string, event: { type: string; data: JsonObject }): TrafficEvent => {
  const { data } = event;
  switch (event.type) {
    case 'QuotaGranted':
      return {
        type: 'QuotaGranted',
        data: {
          userId,
          grantId: stringField(data, 'grantId'),
          quotaBytes: countField(data, 'quotaBytes'),
          reason: stringField(data, 'reason'),
          grantedAt: stringField(data, 'grantedAt'),
        },
      };
    case 'QuotaReset':
      return {
        type: 'QuotaReset',
        data: {
          userId,
          resetId: stringField(data, 'resetId'),
          quotaBytes: countField(data, 'quotaBytes'),
          resetAt: stringField(data, 'resetAt'),
        },
      };
    case 'UsageRecorded': {
      const uploadBytes = countField(data, 'uploadBytes');
      const downloadBytes = countField(data, 'downloadBytes');
      return {
        type: 'UsageReported',
        data: {
          reportId: stringField(data, 'reportId'),
          nodeId: stringField(data, 'nodeId'),
          usages: [{ userId, uploadBytes, downloadBytes }],
          refused: [],
          recordedAt: stringField(data, 'recordedAt'),
        },
      };
    }
    case 'QuotaExceeded': {
      const crossing = {
        userId,
        usedBytes: countField(data, 'usedBytes'),
        quotaBytes: countField(data, 'quotaBytes'),
      };
      const exceededAt = stringField(data, 'exceededAt');
      return { type: 'QuotasExceeded', data: { reportId: '', users: [crossing], exceededAt } };
    }
    default:
      assert(false, `legacy traffic stream: unknown event type ${event.type}`);
  }
};

/**
 * The final state of a legacy stream, folded with the shards' own per-user rules, so a damaged
 * stream (a grant twice, a total past the safe range, a crossing that did not happen) throws.
 */
export const foldLegacyTrafficStream = (
  userId: string,
  events: readonly { type: string; data: JsonObject }[],
): TrafficUserState =>
  events.reduce((user, event) => {
    const [change] = trafficUserChangesOf(asShardEvent(userId, event));
    assert(change !== undefined && change.userId === userId, 'legacy traffic: one user per event');
    return change.apply(user);
  }, initialTrafficUserState);
