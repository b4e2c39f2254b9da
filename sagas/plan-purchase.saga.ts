import { assert } from '../domain/assert';
import { trafficShardOf, type SubscriptionTerms } from '../domain/traffic/traffic.decider';
import type { JsonObject } from '../domain/ports/event-store.port';
import { executeTrafficCommand } from '../domain/traffic/traffic-writer';
import {
  PLAN_PURCHASE_SAGA,
  PLAN_PURCHASE_STEPS,
  planDurationSeconds,
  planExpiresAt,
} from '../domain/plan/plan';
import {
  ensureSystemAccount,
  postTransfer,
  requestTransfer,
  systemAccounts,
  voidTransfer,
  type LedgerPorts,
} from './ledger-steps';
import { numberField, stringField } from '../domain/json-fields';
import { permanent, type SagaDefinition } from './saga-definition';

/**
 * A plan purchase (started by POST /v1/plans/{planId}/purchases): hold the price on the wallet
 * (pending transfer to revenue) → grant the plan's traffic quota → capture the hold. A refused
 * grant voids the hold, so a buyer never pays for a plan not granted.
 */
const planTransferId = (purchaseId: string): string => `plan-${purchaseId}`;

const [HOLD, GRANT, CAPTURE] = PLAN_PURCHASE_STEPS as [string, string, string];

/** The plan's duration as the purchase copied it: durationSeconds, or (older plans) durationDays. */
const durationSecondsOf = (input: JsonObject): number =>
  planDurationSeconds(
    input['durationSeconds'] === undefined
      ? { durationDays: numberField(input, 'durationDays') }
      : { durationSeconds: numberField(input, 'durationSeconds') },
  );

/** The level, group and duration the purchase sets (absent from purchases started before). */
const subscriptionOf = (input: JsonObject): { subscription?: SubscriptionTerms } =>
  input['level'] === undefined
    ? {}
    : {
        subscription: {
          purchaseId: stringField(input, 'purchaseId'),
          planId: stringField(input, 'planId'),
          level: numberField(input, 'level'),
          group: stringField(input, 'group'),
          durationSeconds: durationSecondsOf(input),
          amountMinor: numberField(input, 'amountMinor'),
          currency: stringField(input, 'currency'),
        },
      };

export const planPurchaseSaga = (ports: LedgerPorts): SagaDefinition => ({
  name: PLAN_PURCHASE_SAGA,
  triggers: [],
  route: () => null,
  steps: [
    {
      name: HOLD,
      run: async ({ input, commandContext }) => {
        const currency = stringField(input, 'currency');
        const context = commandContext('hold');
        const revenue = systemAccounts.revenue(currency);
        const refused = await ensureSystemAccount(ports, revenue, currency, context);
        if (refused !== null) return refused;
        const purchaseId = stringField(input, 'purchaseId');
        const terms = {
          transferId: planTransferId(purchaseId),
          debitAccountId: stringField(input, 'walletAccountId'),
          creditAccountId: revenue,
          amountMinor: numberField(input, 'amountMinor'),
          currency,
          mode: 'two_phase' as const,
          reference: `plan:${stringField(input, 'planId')}`,
        };
        return requestTransfer(ports, terms, context);
      },
      compensate: ({ input, commandContext }) =>
        voidTransfer(
          ports,
          planTransferId(stringField(input, 'purchaseId')),
          commandContext('hold-void'),
        ),
    },
    {
      name: GRANT,
      run: async ({ input, commandContext }) => {
        const context = commandContext('grant');
        const expiresAt = planExpiresAt(
          durationSecondsOf(input),
          stringField(input, 'requestedAt'),
        );
        const userId = stringField(input, 'userId');
        const data = {
          userId,
          grantId: `plan-${stringField(input, 'purchaseId')}`,
          quotaBytes: numberField(input, 'quotaBytes'),
          reason: `plan ${stringField(input, 'planId')} until ${expiresAt}`,
          now: context.now,
          ...subscriptionOf(input),
        };
        const outcome = await executeTrafficCommand(
          ports.traffic,
          {
            shardId: trafficShardOf(userId),
            command: { type: 'GrantQuota', data },
            eventIdSeed: null,
          },
          context,
        );
        if (!outcome.ok) return permanent(outcome.rejection);
        assert(outcome.answer.kind === 'user', 'GrantQuota answers with its user');
        const { user } = outcome.answer;
        const { quotaBytes } = user;
        // Purchases started before levels existed keep the expiry their reason names.
        const granted =
          input['level'] === undefined
            ? { expiresAt }
            : { expiresAt: user.expiresAt ?? expiresAt, level: user.level };
        return { kind: 'done', output: { ...granted, quotaBytes } };
      },
    },
    {
      name: CAPTURE,
      run: ({ input, commandContext }) =>
        postTransfer(
          ports,
          planTransferId(stringField(input, 'purchaseId')),
          commandContext('capture'),
        ),
    },
  ],
});
