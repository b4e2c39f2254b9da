/** An order in the sandbox channel's books, as the sandbox answers a query. */
export type SandboxOrder = {
  paymentId: string;
  amountMinor: number;
  currency: string;
  status: 'pending' | 'succeeded' | 'closed' | 'failed';
  transactionId: string | null;
  updatedAt: string;
};

/** The sandbox channel's own desk, as the payer and a tester reach it (bin wires the adapter). */
export type SandboxDesk = {
  order(paymentId: string): SandboxOrder | undefined;
  pay(
    paymentId: string,
    options: { loseNotification: boolean },
  ):
    | { ok: true; channelTransactionId: string; paidAt: string }
    | { ok: false; reason: 'no_such_order' | 'order_closed' | 'order_paid' | 'order_failed' };
};
