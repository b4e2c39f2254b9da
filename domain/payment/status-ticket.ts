import { createHash, randomBytes } from 'node:crypto';
import type { PaymentTicketStore } from '../ports/payment-ticket.port';

/** A status ticket is good for one read within this time. */
const STATUS_TICKET_TTL_MS = 5 * 60 * 1000;
const TICKET_BYTES = 32;
const TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Tickets are stored by hash: a leaked table cannot be replayed against the status route. */
export const hashStatusTicket = (ticket: string): string =>
  createHash('sha256').update(ticket, 'utf8').digest('hex');

export const isWellFormedTicket = (ticket: string): boolean => TICKET_PATTERN.test(ticket);

/** Issues a fresh one-time ticket for the payment; returns the ticket and when it expires. */
export const issueStatusTicket = async (
  tickets: PaymentTicketStore,
  paymentId: string,
  nowMs: number,
): Promise<{ ticket: string; expiresAt: string }> => {
  const ticket = randomBytes(TICKET_BYTES).toString('base64url');
  const expiresAtMs = nowMs + STATUS_TICKET_TTL_MS;
  await tickets.issue(hashStatusTicket(ticket), paymentId, expiresAtMs);
  return { ticket, expiresAt: new Date(expiresAtMs).toISOString() };
};
