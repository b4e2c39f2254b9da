import { v5 as uuidv5 } from 'uuid';
import type { AccountState } from '../account/account.decider';
import type { LinkedCommand } from '../ledger/ledger.decider';
import type { PaymentChannel } from '../payment/payment.model';
import type { ItemTerms } from './item.decider';

/**
 * A flash sale on the ledger. An item's stock is an account counted in units of the item (the
 * "currency" `unit:<itemId>`), filled by restock transfers from the item's issuance account. A
 * purchase is a two-phase transfer of one unit from the stock account to the buyer's unit account
 * with the item's hold timeout:
 * - never oversell: the stock account's constraint (debits, pending included, ≤ credits);
 * - one per buyer: the transfer id is derived from item and buyer, so a second purchase finds it;
 * - release when unpaid: the pending transfer's expiry (the ledger's deadlines) voids it.
 * Σ over the item's accounts is 0: issuance (−restocked) + stock + buyers.
 */

/** Fixed forever: purchase and restock ids of existing sales depend on it. */
const SALE_ID_NAMESPACE = '5b0f3c7e-2d41-4e8a-9a63-1c7d2e9f4b85';

/** The item ids the API accepts: short enough for the ids derived from them (≤ 64 chars). */
export const ITEM_ID_PATTERN = '^[A-Za-z0-9_-]{1,40}$';

/** The owner of the sale's ledger accounts. */
const SALE_OWNER = 'system:sale';

/** Every purchase transfer id starts with this; so does its payment's merchantOrderNo. */
export const PURCHASE_ID_PREFIX = 'sale-';

const unitCurrencyOf = (itemId: string): string => `unit:${itemId}`;
export const stockAccountOf = (itemId: string): string => `stock-${itemId}`;
const issuanceAccountOf = (itemId: string): string => `issuance-${itemId}`;
/** Where the price of paid purchases lands (the channel's clearing account pays it in). */
export const saleRevenueAccountOf = (currency: string): string => `sale-revenue-${currency}`;

const derived = (itemId: string, other: string): string =>
  uuidv5(`${itemId}\n${other}`, SALE_ID_NAMESPACE);

/** One purchase per buyer and item: the hold's transfer id, and the payment's order number. */
export const purchaseIdOf = (itemId: string, buyerId: string): string =>
  `${PURCHASE_ID_PREFIX}${derived(itemId, buyerId)}`;
/** The buyer's account of the item's units. */
export const buyerUnitsAccountOf = (itemId: string, buyerId: string): string =>
  `buyer-${derived(itemId, buyerId)}`;
const restockTransferIdOf = (itemId: string, restockId: string): string =>
  `restock-${derived(itemId, `restock\n${restockId}`)}`;

const openAccount = (
  accountId: string,
  currency: string,
  constraint: 'none' | 'debits_must_not_exceed_credits',
  metadata: Record<string, string>,
): LinkedCommand['command'] => ({
  type: 'OpenAccount',
  data: { accountId, ownerClientId: SALE_OWNER, currency, constraint, metadata },
});

/**
 * The accounts an item needs (re-opening with the same terms changes nothing), and its first
 * stock when there is one: one linked request, all or nothing.
 */
export const listingCommands = (
  terms: Pick<ItemTerms, 'itemId' | 'currency'>,
  stockUnits: number,
): LinkedCommand[] => {
  const { itemId, currency } = terms;
  const unit = unitCurrencyOf(itemId);
  const commands = [
    openAccount(issuanceAccountOf(itemId), unit, 'none', { itemId, role: 'issuance' }),
    openAccount(stockAccountOf(itemId), unit, 'debits_must_not_exceed_credits', {
      itemId,
      role: 'stock',
    }),
    openAccount(saleRevenueAccountOf(currency), currency, 'none', { role: 'sale_revenue' }),
    ...(stockUnits > 0 ? [restockCommand(itemId, 'initial', stockUnits)] : []),
  ];
  return commands.map((command, index) => ({ command, linked: index < commands.length - 1 }));
};

/** Restock: units issued into the stock account, once per restockId. */
export const restockCommand = (
  itemId: string,
  restockId: string,
  units: number,
): LinkedCommand['command'] => ({
  type: 'CreateTransfer',
  data: {
    transferId: restockTransferIdOf(itemId, restockId),
    debitAccountId: issuanceAccountOf(itemId),
    creditAccountId: stockAccountOf(itemId),
    amountMinor: units,
    currency: unitCurrencyOf(itemId),
    mode: 'single_phase',
    timeoutMs: null,
    reference: `restock:${itemId}:${restockId}`,
  },
});

/** Who bought, as kept in the buyer's unit account (the order view reads it back). */
export type PurchaseParty = { buyerId: string; merchantId: string; channel: PaymentChannel };

/**
 * A purchase: the buyer's unit account (opened unless it is) linked with the hold of one unit.
 * Sold out, the chain fails whole and nothing is recorded: the buyer may try again once a unit
 * comes back.
 */
export const purchaseCommands = (
  terms: Pick<ItemTerms, 'itemId' | 'holdTimeoutMs'>,
  party: PurchaseParty,
): LinkedCommand[] => {
  const { itemId } = terms;
  const unit = unitCurrencyOf(itemId);
  const buyerAccountId = buyerUnitsAccountOf(itemId, party.buyerId);
  return [
    {
      command: openAccount(buyerAccountId, unit, 'none', { itemId, ...party, role: 'buyer' }),
      linked: true,
    },
    {
      command: {
        type: 'CreateTransfer',
        data: {
          transferId: purchaseIdOf(itemId, party.buyerId),
          debitAccountId: stockAccountOf(itemId),
          creditAccountId: buyerAccountId,
          amountMinor: 1,
          currency: unit,
          mode: 'two_phase',
          timeoutMs: terms.holdTimeoutMs,
          reference: `sale:${itemId}:${party.buyerId}`,
        },
      },
      linked: false,
    },
  ];
};

/** At most this long between a purchase's payment expiring and its hold releasing the unit. */
const SETTLE_GRACE_MS_MAX = 60_000;

/**
 * When a hold's payment expires: a little before the hold (a fifth of the hold timeout, at most a
 * minute), so that a payment accepted at its last moment still finds the hold pending when the
 * settlement saga posts it. The unit itself is released at the hold's own expiry.
 */
export const paymentExpiryOf = (holdExpiresAt: string, holdTimeoutMs: number): string =>
  new Date(
    Date.parse(holdExpiresAt) - Math.min(SETTLE_GRACE_MS_MAX, Math.floor(holdTimeoutMs / 5)),
  ).toISOString();

/** The stock account's units: left to sell, held by unpaid purchases, sold (paid), restocked. */
export type StockView = {
  availableUnits: number;
  heldUnits: number;
  soldUnits: number;
  restockedUnits: number;
};

export const stockViewOf = (stock: AccountState): StockView => {
  if (stock.status === 'unopened')
    return { availableUnits: 0, heldUnits: 0, soldUnits: 0, restockedUnits: 0 };
  return {
    availableUnits: stock.creditsPostedMinor - stock.debitsPostedMinor - stock.debitsPendingMinor,
    heldUnits: stock.debitsPendingMinor,
    soldUnits: stock.debitsPostedMinor,
    restockedUnits: stock.creditsPostedMinor,
  };
};
