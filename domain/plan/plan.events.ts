import { versionedEventCodec, type EventCodec } from '../aggregate';
import { AssertionError } from '../assert';
import { countField, stringArrayField, stringField } from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';
import type { Plan } from './plan';
import type { PlanEvent, PlanSeedEvent } from './plan.decider';

/** A plan's terms; level and group are absent when the plan leaves them to their defaults. */
const planOf = (data: JsonObject): Plan => ({
  planId: stringField(data, 'planId'),
  name: stringField(data, 'name'),
  amountMinor: countField(data, 'amountMinor'),
  currency: stringField(data, 'currency'),
  quotaBytes: countField(data, 'quotaBytes'),
  durationDays: countField(data, 'durationDays'),
  ...(data['level'] === undefined ? {} : { level: countField(data, 'level') }),
  ...(data['group'] === undefined ? {} : { group: stringField(data, 'group') }),
});

/** The plan's events as stored: version 1, every field checked on read. */
const parsePlan = (type: string, data: JsonObject): PlanEvent => {
  switch (type) {
    case 'PlanCreated':
      return { type, data: { ...planOf(data), createdAt: stringField(data, 'createdAt') } };
    case 'PlanUpdated':
      return { type, data: { ...planOf(data), updatedAt: stringField(data, 'updatedAt') } };
    case 'PlanRetired':
      return {
        type,
        data: { reason: stringField(data, 'reason'), retiredAt: stringField(data, 'retiredAt') },
      };
    default:
      throw new AssertionError(`plan: unknown event type ${type}`);
  }
};

export const planEventCodec: EventCodec<PlanEvent> = versionedEventCodec({
  upcasters: [],
  encode: (event) => event.data,
  parse: parsePlan,
});

export const planSeedEventCodec: EventCodec<PlanSeedEvent> = versionedEventCodec({
  upcasters: [],
  encode: (event) => event.data,
  parse: (type, data) => {
    if (type !== 'PlanCatalogueSeeded')
      throw new AssertionError(`planseed: unknown event type ${type}`);
    return {
      type,
      data: { planIds: stringArrayField(data, 'planIds'), seededAt: stringField(data, 'seededAt') },
    };
  },
});
