import { AssertionError } from '../../../domain/assert';
import {
  itemAggregate,
  saleWindowCheck,
  type ItemEvent,
  type ItemState,
  type ItemTerms,
} from '../../../domain/item/item.decider';
import { deciderSpec } from '../../support/decider-spec';

const given = deciderSpec(itemAggregate);

const now = '2026-12-06T10:00:00.000Z';
const terms: ItemTerms = {
  itemId: 'phone-1',
  name: 'Phone',
  priceMinor: 19_900,
  currency: 'EUR',
  startsAt: '2026-12-06T10:01:00.000Z',
  endsAt: '2026-12-06T11:00:00.000Z',
  holdTimeoutMs: 15 * 60 * 1000,
};
const created: ItemEvent = { type: 'ItemCreated', data: { ...terms, createdAt: now } };
const retired: ItemEvent = { type: 'ItemRetired', data: { reason: 'gone', retiredAt: now } };
const duringSale = '2026-12-06T10:30:00.000Z';

describe('CreateItem', () => {
  it('lists an item whose sale starts in the future and ends after it starts', () => {
    given([])
      .when({ type: 'CreateItem', data: { ...terms, now } })
      .then([created]);
  });

  it('refuses a start now or in the past', () => {
    given([])
      .when({ type: 'CreateItem', data: { ...terms, startsAt: now, now } })
      .thenRejects('sale_start_not_in_future');
  });

  it('refuses an end at or before the start', () => {
    given([])
      .when({ type: 'CreateItem', data: { ...terms, endsAt: terms.startsAt, now } })
      .thenRejects('sale_end_not_after_start');
  });

  it('answers a retried create with the same terms with no event, even once the sale started', () => {
    given([created])
      .when({ type: 'CreateItem', data: { ...terms, now: duringSale } })
      .then([]);
  });

  it('refuses the same itemId with other terms, naming the field', () => {
    const decision = itemAggregate.decide(
      { type: 'CreateItem', data: { ...terms, priceMinor: 1, now } },
      itemAggregate.evolve(itemAggregate.initialState, created),
    );
    expect(decision).toEqual({
      ok: false,
      rejection: 'item_already_exists',
      detail: { field: 'priceMinor' },
    });
  });
});

describe('UpdateItem', () => {
  it('changes the price before the sale starts, recording the whole terms', () => {
    given([created])
      .when({ type: 'UpdateItem', data: { changes: { priceMinor: 9_900 }, now } })
      .then([{ type: 'ItemUpdated', data: { ...terms, priceMinor: 9_900, updatedAt: now } }]);
  });

  it('refuses price, start and hold timeout changes once the sale started', () => {
    for (const changes of [
      { priceMinor: 1 },
      { startsAt: '2026-12-06T10:40:00.000Z' },
      { holdTimeoutMs: 60_000 },
    ])
      given([created])
        .when({ type: 'UpdateItem', data: { changes, now: duringSale } })
        .thenRejects('item_sale_started');
  });

  it('extends a running sale', () => {
    const endsAt = '2026-12-06T12:00:00.000Z';
    given([created])
      .when({ type: 'UpdateItem', data: { changes: { endsAt }, now: duringSale } })
      .then([{ type: 'ItemUpdated', data: { ...terms, endsAt, updatedAt: duringSale } }]);
  });

  it('refuses an end moved into the past', () => {
    given([created])
      .when({
        type: 'UpdateItem',
        data: { changes: { endsAt: '2026-12-06T10:20:00.000Z' }, now: duringSale },
      })
      .thenRejects('sale_end_not_after_start');
  });

  it('refuses a new start in the past and an end before the start', () => {
    given([created])
      .when({ type: 'UpdateItem', data: { changes: { startsAt: '2026-12-06T09:00:00Z' }, now } })
      .thenRejects('sale_start_not_in_future');
    given([created])
      .when({
        type: 'UpdateItem',
        data: { changes: { endsAt: '2026-12-06T10:00:30.000Z' }, now },
      })
      .thenRejects('sale_end_not_after_start');
  });

  it('changes nothing when the values are the current ones', () => {
    given([created])
      .when({ type: 'UpdateItem', data: { changes: { name: terms.name }, now } })
      .then([]);
  });

  it('refuses an unknown or retired item', () => {
    given([])
      .when({ type: 'UpdateItem', data: { changes: { name: 'x' }, now } })
      .thenRejects('item_not_found');
    given([created, retired])
      .when({ type: 'UpdateItem', data: { changes: { name: 'x' }, now } })
      .thenRejects('item_retired');
  });
});

describe('RetireItem', () => {
  it('retires once; again changes nothing; an unknown item is refused', () => {
    given([created])
      .when({ type: 'RetireItem', data: { reason: 'gone', now } })
      .then([retired]);
    given([created, retired])
      .when({ type: 'RetireItem', data: { reason: 'x', now } })
      .then([]);
    given([])
      .when({ type: 'RetireItem', data: { reason: 'x', now } })
      .thenRejects('item_not_found');
  });
});

describe('evolve pairs with decide', () => {
  it('refuses an update of a retired item on replay', () => {
    const state = [created, retired].reduce(itemAggregate.evolve, itemAggregate.initialState);
    const update: ItemEvent = { type: 'ItemUpdated', data: { ...terms, updatedAt: now } };
    expect(() => itemAggregate.evolve(state, update)).toThrow(AssertionError);
  });
});

describe('saleWindowCheck', () => {
  const listed: ItemState = itemAggregate.evolve(itemAggregate.initialState, created);
  it.each([
    ['2026-12-06T10:00:59.999Z', 'sale_not_started'],
    ['2026-12-06T10:01:00.000Z', null],
    ['2026-12-06T10:59:59.999Z', null],
    ['2026-12-06T11:00:00.000Z', 'sale_ended'],
  ])('at %s answers %s', (at, expected) => {
    expect(saleWindowCheck(listed, at)).toBe(expected);
  });

  it('refuses a retired or unknown item', () => {
    expect(saleWindowCheck(itemAggregate.evolve(listed, retired), duringSale)).toBe('item_retired');
    expect(saleWindowCheck({ status: 'none' }, duringSale)).toBe('item_not_found');
  });
});
