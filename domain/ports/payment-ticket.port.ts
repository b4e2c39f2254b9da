/**
 * One-time status tickets: a payer's client reads its payment's status without an API key by
 * presenting a ticket issued with the payment. Only the ticket's sha256 is stored.
 */
export type TicketRedemption = 'redeemed' | 'unknown' | 'foreign' | 'expired' | 'used';

export interface PaymentTicketStore {
  /** Stores a ticket (by its hash) bound to one payment until expiresAtMs. */
  issue(ticketHash: string, paymentId: string, expiresAtMs: number): Promise<void>;
  /** Consumes the ticket for this payment at nowMs: only the first valid use is 'redeemed'. */
  redeem(ticketHash: string, paymentId: string, nowMs: number): Promise<TicketRedemption>;
  /** Deletes tickets that expired before `beforeMs`; returns how many. */
  purgeExpired(beforeMs: number): Promise<number>;
}
