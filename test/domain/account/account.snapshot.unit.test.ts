import fc from 'fast-check';
import {
  accountAggregate,
  type AccountCommand,
  type AccountState,
} from '../../../domain/account/account.decider';
import { accountSnapshotCodec } from '../../../domain/account/account.snapshot';
import type { JsonValue } from '../../../domain/ports/event-store.port';

const { encode, decode } = accountSnapshotCodec;
/** Through JSON text, as a snapshot store keeps it. */
const roundTrip = (state: AccountState): AccountState =>
  decode(JSON.parse(JSON.stringify(encode(state))) as JsonValue);

const opened = accountAggregate.evolve(accountAggregate.initialState, {
  type: 'AccountOpened',
  data: {
    accountId: 'wallet-1',
    ownerClientId: 'merchant-1',
    currency: 'EUR',
    constraint: 'none',
    metadata: { owner: 'alice', region: 'eu' },
    openedAt: '2026-11-22T10:00:00.000Z',
  },
});

const legCommand: fc.Arbitrary<AccountCommand> = fc
  .record({
    kind: fc.constantFrom('apply', 'post', 'void'),
    transfer: fc.integer({ min: 0, max: 20 }),
    side: fc.constantFrom<'debit' | 'credit'>('debit', 'credit'),
    amountMinor: fc.integer({ min: 1, max: 1_000 }),
    pending: fc.boolean(),
  })
  .map(({ kind, transfer, side, amountMinor, pending }): AccountCommand => {
    const transferId = `t${transfer}`;
    if (kind === 'post') return { type: 'PostPendingLeg', data: { transferId, side, amountMinor } };
    if (kind === 'void') return { type: 'VoidPendingLeg', data: { transferId, side, reason: 'x' } };
    return { type: 'ApplyLeg', data: { transferId, side, amountMinor, currency: 'EUR', pending } };
  });

describe('account snapshot codec', () => {
  it('decodes every reachable state to itself, pending legs included', () => {
    fc.assert(
      fc.property(fc.array(legCommand, { maxLength: 80 }), fc.boolean(), (commands, close) => {
        let state = opened;
        for (const command of commands) {
          const decision = accountAggregate.decide(command, state);
          if (decision.ok) state = decision.events.reduce(accountAggregate.evolve, state);
        }
        if (close) {
          const closing = accountAggregate.decide(
            { type: 'CloseAccount', data: { now: 'x' } },
            state,
          );
          if (closing.ok) state = closing.events.reduce(accountAggregate.evolve, state);
        }
        expect(roundTrip(state)).toEqual(state);
      }),
      { numRuns: 200 },
    );
    expect(roundTrip(accountAggregate.initialState)).toEqual({ status: 'unopened' });
  });

  it.each([
    ['an unknown status', { status: 'frozen' }, "status: 'frozen' is not one of"],
    [
      'a missing counter',
      { ...encodedOpened(), debitsPostedMinor: undefined },
      'debitsPostedMinor',
    ],
    ['a negative counter', { ...encodedOpened(), creditsPostedMinor: -1 }, 'creditsPostedMinor'],
    ['a fractional counter', { ...encodedOpened(), debitsPendingMinor: 0.5 }, 'debitsPendingMinor'],
    ['an unknown constraint', { ...encodedOpened(), constraint: 'nope' }, 'constraint'],
    ['metadata that is not text', { ...encodedOpened(), metadata: { a: 1 } }, 'a: not a string'],
    [
      'a pending leg of an unknown side',
      { ...encodedOpened(), pendingLegs: [{ transferId: 't', side: 'up', amountMinor: 1 }] },
      'side',
    ],
    ['not an object', [1, 2], 'account snapshot: not an object'],
  ])('refuses %s, naming the field', (_name, saved, message) => {
    expect(() => decode(JSON.parse(JSON.stringify(saved)) as JsonValue)).toThrow(message);
  });
});

function encodedOpened(): Record<string, JsonValue> {
  return encode(opened) as Record<string, JsonValue>;
}
