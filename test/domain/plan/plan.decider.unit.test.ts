import { parseStored } from '../../../domain/aggregate';
import {
  planDurationSeconds,
  planExpiresAt,
  planProblem,
  type Plan,
} from '../../../domain/plan/plan';
import { planAggregate } from '../../../domain/plan/plan.decider';
import { deciderSpec } from '../../support/decider-spec';

const given = deciderSpec(planAggregate);
const now = '2026-03-01T00:00:00.000Z';
const later = '2026-03-02T00:00:00.000Z';
const base = { planId: 'trial', name: 'Trial', amountMinor: 100, currency: 'EUR', quotaBytes: 10 };
const pass: Plan = { ...base, durationSeconds: 60, level: 1 };
const created = { type: 'PlanCreated' as const, data: { ...pass, createdAt: now } };

describe('plan durations: whole days or seconds, exactly one', () => {
  it('creates a plan of 60 seconds; its codec reads it back', () => {
    given([])
      .when({ type: 'CreatePlan', data: { plan: pass, now } })
      .then([created]);
  });

  it('refuses neither, both, or a duration out of range, naming the field', () => {
    expect(planProblem({ ...base })).toBe(
      'plan trial: durationDays (or durationSeconds) is required',
    );
    expect(planProblem({ ...base, durationDays: 1, durationSeconds: 60 })).toBe(
      'plan trial: durationDays and durationSeconds exclude each other',
    );
    expect(planProblem({ ...base, durationSeconds: 0 })).toMatch(/durationSeconds must be/);
    expect(planProblem({ ...base, durationDays: 3661 })).toMatch(/durationDays must be/);
    expect(planProblem({ ...base, durationDays: 3660 })).toBeNull();
  });

  it('switches the unit on update: the new duration replaces the other', () => {
    given([created])
      .when({ type: 'UpdatePlan', data: { changes: { durationDays: 7 }, now: later } })
      .then([
        {
          type: 'PlanUpdated',
          data: { ...base, durationDays: 7, level: 1, updatedAt: later },
        },
      ]);
  });

  it('reads a plan stored before durationSeconds (durationDays) as it was', () => {
    const stored = { ...base, durationDays: 30, createdAt: now };
    const event = parseStored(planAggregate, {
      type: 'PlanCreated',
      data: stored,
      metadata: { schemaVersion: 1 },
    });
    expect(event).toEqual({ type: 'PlanCreated', data: stored });
  });

  it('runs a plan for its duration in seconds, whichever unit it uses', () => {
    expect(planDurationSeconds({ durationDays: 2 })).toBe(172_800);
    expect(planDurationSeconds({ durationSeconds: 60 })).toBe(60);
    expect(planExpiresAt(60, now)).toBe('2026-03-01T00:01:00.000Z');
  });
});
