import { parseStored } from '../aggregate';
import type { RecordedEvent } from '../ports/event-store.port';
import { transferStream, type TransferEvent } from '../transfer/transfer.decider';

/**
 * The volume of money moved per UTC day and currency, folded from the log: a transfer counts on
 * the day it was posted (created posted, or a pending one posted later, for the amount posted).
 * Refused and voided transfers move nothing. Days are those of the events' occurredAt.
 */
type DailyVolume = {
  day: string;
  currency: string;
  transferCount: number;
  amountMinor: bigint;
};

export const createDailyVolume = () => {
  const volumes = new Map<string, DailyVolume>();
  // Pending transfers' currency, until they are posted or voided.
  const pendingCurrencies = new Map<string, string>();

  const add = (day: string, currency: string, amountMinor: number): void => {
    const key = `${day} ${currency}`;
    const volume = volumes.get(key) ?? { day, currency, transferCount: 0, amountMinor: 0n };
    volume.transferCount += 1;
    volume.amountMinor += BigInt(amountMinor);
    volumes.set(key, volume);
  };

  const applyTransfer = (stream: string, day: string, event: TransferEvent): void => {
    switch (event.type) {
      case 'TransferCreated':
        if (event.data.status === 'posted') add(day, event.data.currency, event.data.amountMinor);
        else pendingCurrencies.set(stream, event.data.currency);
        return;
      case 'TransferRequested':
        pendingCurrencies.set(stream, event.data.currency);
        return;
      case 'TransferPosted': {
        const currency = pendingCurrencies.get(stream);
        pendingCurrencies.delete(stream);
        if (currency !== undefined) add(day, currency, event.data.amountMinor);
        return;
      }
      case 'TransferVoided':
      case 'TransferRejected':
      case 'TransferRefused':
        pendingCurrencies.delete(stream);
        return;
      case 'TransferPending':
      case 'TransferPostRequested':
      case 'TransferVoidRequested':
        return;
    }
  };

  return {
    apply(event: RecordedEvent): void {
      if (!event.stream.startsWith('transfer-')) return;
      const day = event.metadata.occurredAt.slice(0, 10);
      applyTransfer(event.stream, day, parseStored(transferStream, event));
    },
    /** Days from fromDay (inclusive, YYYY-MM-DD), oldest first, then by currency. */
    report(fromDay: string): DailyVolume[] {
      return [...volumes.values()]
        .filter((volume) => volume.day >= fromDay)
        .sort((a, b) => a.day.localeCompare(b.day) || a.currency.localeCompare(b.currency));
    },
  };
};
