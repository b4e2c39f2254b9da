import { versionedEventCodec, type Aggregate } from '../aggregate';
import { assert, AssertionError } from '../assert';
import { accept, reject, type Decision } from '../decision';
import { countField, stringField } from '../json-fields';

/**
 * The daily amount limit of a buyer, decided in one place: the actor of the stream
 * `buyerday-<buyerId>.<YYYY-MM-DD>` (UTC day) reserves each purchase's price before its hold is
 * made, so two concurrent purchases by one buyer queue in the same mailbox and the second sees the
 * first. The store's expected revision makes it hold across service instances, and its events
 * make it hold across a restart. A reservation is keyed by the purchase id (one per item and
 * buyer): a retried purchase is counted once. A purchase that ends without a hold (sold out)
 * releases what it reserved; a hold that later expires stays counted (its purchase was made).
 */
type Reservation = { currency: string; amountMinor: number };

type BuyerDayCommand =
  | {
      type: 'ReserveDailyAmount';
      data: { purchaseId: string; currency: string; amountMinor: number; amountMinorMax: number };
    }
  | { type: 'ReleaseDailyAmount'; data: { purchaseId: string } };

type BuyerDayEvent =
  | { type: 'DailyAmountReserved'; data: { purchaseId: string } & Reservation }
  | { type: 'DailyAmountReleased'; data: { purchaseId: string } };

/** The buyer day's events as stored: version 1, every field checked on read. */
const buyerDayEventCodec = versionedEventCodec<BuyerDayEvent>({
  upcasters: [],
  encode: (event) => event.data,
  parse: (type, data) => {
    const purchaseId = stringField(data, 'purchaseId');
    switch (type) {
      case 'DailyAmountReserved':
        return {
          type,
          data: {
            purchaseId,
            currency: stringField(data, 'currency'),
            amountMinor: countField(data, 'amountMinor'),
          },
        };
      case 'DailyAmountReleased':
        return { type, data: { purchaseId } };
      default:
        throw new AssertionError(`buyerday: unknown event type ${type}`);
    }
  },
});

type BuyerDayState = { reservations: Readonly<Record<string, Reservation>> };

const reservedMinor = (state: BuyerDayState, currency: string): number =>
  Object.values(state.reservations)
    .filter((reservation) => reservation.currency === currency)
    .reduce((sum, reservation) => sum + reservation.amountMinor, 0);

const decide = (
  command: BuyerDayCommand,
  state: BuyerDayState,
): Decision<BuyerDayEvent, 'risk_buyer_daily_amount'> => {
  const { purchaseId } = command.data;
  const reserved = state.reservations[purchaseId];
  if (command.type === 'ReleaseDailyAmount')
    return reserved === undefined
      ? accept()
      : accept({ type: 'DailyAmountReleased', data: { purchaseId } });
  const { currency, amountMinor, amountMinorMax } = command.data;
  assert(amountMinor > 0, 'ReserveDailyAmount: a positive price'); // The catalogue checked it.
  if (reserved !== undefined) return accept(); // The same purchase again: counted once.
  if (reservedMinor(state, currency) + amountMinor > amountMinorMax)
    return reject('risk_buyer_daily_amount', { limit: amountMinorMax });
  return accept({ type: 'DailyAmountReserved', data: { purchaseId, currency, amountMinor } });
};

const evolve = (state: BuyerDayState, event: BuyerDayEvent): BuyerDayState => {
  const { purchaseId } = event.data;
  if (event.type === 'DailyAmountReleased') {
    assert(state.reservations[purchaseId] !== undefined, 'DailyAmountReleased: not reserved');
    const { [purchaseId]: _released, ...rest } = state.reservations;
    return { reservations: rest };
  }
  assert(state.reservations[purchaseId] === undefined, 'DailyAmountReserved: reserved twice');
  const { currency, amountMinor } = event.data;
  return { reservations: { ...state.reservations, [purchaseId]: { currency, amountMinor } } };
};

export const buyerDayAggregate: Aggregate<
  BuyerDayCommand,
  BuyerDayEvent,
  BuyerDayState,
  'risk_buyer_daily_amount'
> = {
  category: 'buyerday',
  initialState: { reservations: {} },
  decide,
  evolve,
  eventCodec: buyerDayEventCodec,
};

/** The stream id of a buyer's UTC day: `<buyerId>.<YYYY-MM-DD>`. */
export const buyerDayIdOf = (buyerId: string, now: string): string =>
  `${buyerId}.${now.slice(0, 10)}`;
