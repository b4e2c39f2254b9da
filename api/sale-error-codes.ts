import type { ItemRejection, SaleWindowRejection } from '../domain/item/item.decider';
import type { RiskRefusal } from '../domain/risk/risk-rules';

/**
 * Errors of the catalogue and the flash sale (codes ending 30-39), and the risk rules' refusals
 * (70001-70099: risk control, the one range not derived from its status). Merged into errorCodes.
 */
type Spec = {
  readonly status: 403 | 404 | 409 | 422 | 429;
  readonly code: number;
  readonly msg: string;
};

export const saleErrorCodes = {
  item_not_found: { status: 404, code: 40430, msg: 'no such item' },
  purchase_not_found: { status: 404, code: 40431, msg: 'this buyer has no purchase of this item' },
  item_already_exists: {
    status: 409,
    code: 40930,
    msg: 'an item with this itemId exists with other terms',
  },
  item_retired: { status: 409, code: 40931, msg: 'the item is retired' },
  item_sale_started: {
    status: 409,
    code: 40932,
    msg: 'the sale has started: price, start and hold timeout are fixed',
  },
  already_purchased: {
    status: 409,
    code: 40933,
    msg: 'this buyer already has a purchase of this item (one per buyer)',
  },
  sale_start_not_in_future: { status: 422, code: 42230, msg: 'startsAt must be in the future' },
  sale_end_not_after_start: {
    status: 422,
    code: 42231,
    msg: 'endsAt must be after startsAt and in the future',
  },
  sale_not_started: { status: 422, code: 42232, msg: 'the sale has not started yet' },
  sale_ended: { status: 422, code: 42233, msg: 'the sale has ended' },
  sold_out: { status: 422, code: 42234, msg: 'sold out: no unit left in stock' },
  risk_ip_denied: { status: 403, code: 70001, msg: 'refused by risk control: IP on the deny list' },
  risk_buyer_velocity: {
    status: 429,
    code: 70002,
    msg: 'refused by risk control: too many purchase attempts by this buyer',
  },
  risk_ip_velocity: {
    status: 429,
    code: 70003,
    msg: 'refused by risk control: too many purchase attempts from this IP',
  },
  risk_grey_ip_velocity: {
    status: 429,
    code: 70004,
    msg: 'refused by risk control: too many purchase attempts from this grey-listed IP',
  },
  risk_device_velocity: {
    status: 429,
    code: 70005,
    msg: 'refused by risk control: too many purchase attempts from this device',
  },
  risk_buyer_daily_amount: {
    status: 403,
    code: 70006,
    msg: "refused by risk control: the buyer's purchases today would exceed the daily amount limit",
  },
} as const satisfies Record<
  | ItemRejection
  | SaleWindowRejection
  | RiskRefusal
  | 'purchase_not_found'
  | 'already_purchased'
  | 'sold_out',
  Spec
>;
