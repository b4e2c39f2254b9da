import { versionedEventCodec, type Aggregate, type EventCodec } from '../aggregate';
import { assert, AssertionError } from '../assert';
import { accept, reject, type Decision } from '../decision';
import { countField, stringArrayField, stringField } from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';
import { planProblem, type Plan } from './plan';

/**
 * A plan of the catalogue (stream `plan-<planId>`): created, updated and retired by admins. A
 * purchase copies the plan's terms into its saga when it starts, so an update applies to later
 * purchases only and a retired plan is no longer sold.
 */
export type PlanChanges = Partial<Omit<Plan, 'planId'>>;

type At = { now: string };

type PlanCommand =
  | { type: 'CreatePlan'; data: { plan: Plan } & At }
  | { type: 'UpdatePlan'; data: { changes: PlanChanges } & At }
  | { type: 'RetirePlan'; data: { reason: string } & At };

type PlanEvent =
  | { type: 'PlanCreated'; data: Plan & { createdAt: string } }
  /** The plan after the update, whole. */
  | { type: 'PlanUpdated'; data: Plan & { updatedAt: string } }
  | { type: 'PlanRetired'; data: { reason: string; retiredAt: string } };

export type PlanRecord = {
  status: 'listed' | 'retired';
  plan: Plan;
  createdAt: string;
  updatedAt: string;
  retiredAt: string | null;
};
type PlanState = { status: 'none' } | PlanRecord;

type PlanRejection = 'plan_not_found' | 'plan_already_exists' | 'plan_retired';

/** Compared in this order, so plan_already_exists names the first differing field. */
const planFields = [
  'name',
  'amountMinor',
  'currency',
  'quotaBytes',
  'durationDays',
  'durationSeconds',
  'level',
  'group',
] as const satisfies readonly (keyof Plan)[];

/** The plan in its one canonical shape: absent optional fields are left out. */
const canonical = (plan: Plan): Plan => {
  const { level, group, durationDays, durationSeconds, ...rest } = plan;
  return {
    ...rest,
    ...(durationDays === undefined ? {} : { durationDays }),
    ...(durationSeconds === undefined ? {} : { durationSeconds }),
    ...(level === undefined ? {} : { level }),
    ...(group === undefined ? {} : { group }),
  };
};

/** The plan with the changes applied: a new duration in one unit replaces the other. */
const changed = (plan: Plan, changes: PlanChanges): Plan => {
  const { durationDays, durationSeconds, ...kept } = plan;
  const duration =
    changes.durationSeconds !== undefined || changes.durationDays !== undefined
      ? {}
      : {
          ...(durationDays === undefined ? {} : { durationDays }),
          ...(durationSeconds === undefined ? {} : { durationSeconds }),
        };
  return { ...kept, ...duration, ...changes };
};

const differingField = (a: Plan, b: Plan): string | undefined =>
  planFields.find((field) => a[field] !== b[field]);

const decide = (command: PlanCommand, state: PlanState): Decision<PlanEvent, PlanRejection> => {
  switch (command.type) {
    case 'CreatePlan': {
      const plan = canonical(command.data.plan);
      assert(planProblem(plan) === null, 'CreatePlan: a validated plan'); // The API checked it.
      if (state.status !== 'none') {
        // A retried create with the same terms is answered as it is.
        const field = differingField(state.plan, plan);
        return field === undefined ? accept() : reject('plan_already_exists', { field });
      }
      return accept({ type: 'PlanCreated', data: { ...plan, createdAt: command.data.now } });
    }
    case 'UpdatePlan': {
      if (state.status === 'none') return reject('plan_not_found');
      if (state.status === 'retired') return reject('plan_retired');
      const next = canonical(changed(state.plan, command.data.changes));
      assert(planProblem(next) === null, 'UpdatePlan: validated changes');
      if (differingField(state.plan, next) === undefined) return accept();
      return accept({ type: 'PlanUpdated', data: { ...next, updatedAt: command.data.now } });
    }
    case 'RetirePlan':
      if (state.status === 'none') return reject('plan_not_found');
      if (state.status === 'retired') return accept(); // Retiring twice changes nothing.
      return accept({
        type: 'PlanRetired',
        data: { reason: command.data.reason, retiredAt: command.data.now },
      });
  }
};

const evolve = (state: PlanState, event: PlanEvent): PlanState => {
  switch (event.type) {
    case 'PlanCreated': {
      assert(state.status === 'none', 'PlanCreated: plan created twice');
      const { createdAt, ...plan } = event.data;
      return { status: 'listed', plan, createdAt, updatedAt: createdAt, retiredAt: null };
    }
    case 'PlanUpdated': {
      assert(state.status === 'listed', 'PlanUpdated: plan not listed');
      const { updatedAt, ...plan } = event.data;
      assert(plan.planId === state.plan.planId, 'PlanUpdated: another plan');
      return { ...state, plan, updatedAt };
    }
    case 'PlanRetired':
      assert(state.status === 'listed', 'PlanRetired: plan not listed');
      return {
        ...state,
        status: 'retired',
        retiredAt: event.data.retiredAt,
        updatedAt: event.data.retiredAt,
      };
  }
};

/**
 * A plan's terms; level and group are absent when the plan leaves them to their defaults, and
 * exactly one of durationDays (every plan stored before durationSeconds) and durationSeconds.
 */
const planOf = (data: JsonObject): Plan => ({
  planId: stringField(data, 'planId'),
  name: stringField(data, 'name'),
  amountMinor: countField(data, 'amountMinor'),
  currency: stringField(data, 'currency'),
  quotaBytes: countField(data, 'quotaBytes'),
  ...(data['durationSeconds'] === undefined
    ? { durationDays: countField(data, 'durationDays') }
    : { durationSeconds: countField(data, 'durationSeconds') }),
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

const planEventCodec: EventCodec<PlanEvent> = versionedEventCodec({
  upcasters: [],
  encode: (event) => event.data,
  parse: parsePlan,
});

export const planAggregate: Aggregate<PlanCommand, PlanEvent, PlanState, PlanRejection> = {
  category: 'plan',
  initialState: { status: 'none' },
  decide,
  evolve,
  eventCodec: planEventCodec,
};

/**
 * The record that PLANS_FILE seeded the catalogue (stream `planseed-catalogue`): written once,
 * after the file's plans were created, so a restart neither seeds again nor duplicates a plan.
 */
type PlanSeedEvent = {
  type: 'PlanCatalogueSeeded';
  data: { planIds: string[]; seededAt: string };
};
type PlanSeedCommand = { type: 'MarkPlanCatalogueSeeded'; data: { planIds: string[] } & At };

const planSeedEventCodec: EventCodec<PlanSeedEvent> = versionedEventCodec({
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

export const planSeedAggregate: Aggregate<
  PlanSeedCommand,
  PlanSeedEvent,
  { seededAt: string | null },
  never
> = {
  category: 'planseed',
  initialState: { seededAt: null },
  decide: (command, state) =>
    state.seededAt !== null
      ? accept()
      : accept({
          type: 'PlanCatalogueSeeded',
          data: { planIds: command.data.planIds, seededAt: command.data.now },
        }),
  evolve: (_state, event) => ({ seededAt: event.data.seededAt }),
  eventCodec: planSeedEventCodec,
};

export const PLAN_SEED_ID = 'catalogue';

/** Whether two plans have the same terms (a seed file's plan against the live one). */
export const samePlanTerms = (a: Plan, b: Plan): boolean =>
  differingField(canonical(a), canonical(b)) === undefined;
