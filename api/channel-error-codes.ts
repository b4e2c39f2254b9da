/**
 * Errors of the payment-channel routes (status tickets, resume, channel calls, reconciliation).
 * Merged into errorCodes (api/error-codes.ts).
 */
type Spec = {
  readonly status: 401 | 404 | 409 | 422 | 502 | 503;
  readonly code: number;
  readonly msg: string;
};

export const paymentChannelErrorCodes = {
  status_ticket_invalid: {
    status: 401,
    code: 40190,
    msg: 'the status ticket is unknown, used, expired or for another payment',
  },
  sandbox_order_not_found: {
    status: 404,
    code: 40490,
    msg: 'the sandbox channel has no order for this payment',
  },
  payment_not_resumable: { status: 409, code: 40990, msg: 'the payment is no longer payable' },
  sandbox_order_not_payable: {
    status: 409,
    code: 40991,
    msg: 'the sandbox order can no longer be paid (closed, paid or failed)',
  },
  reconciliation_not_found: { status: 404, code: 40492, msg: 'no such reconciliation report' },
  reconciliation_item_not_found: {
    status: 404,
    code: 40493,
    msg: 'no such difference in this reconciliation report',
  },
  reconciliation_item_not_open: {
    status: 409,
    code: 40992,
    msg: 'this difference is not open: it was repaired or resolved already',
  },
  statement_invalid: {
    status: 422,
    code: 42290,
    msg: 'the statement is not a valid statement of this channel',
  },
  channel_not_configured: {
    status: 422,
    code: 42291,
    msg: 'this payment channel is not configured',
  },
  reconciliation_day_in_future: {
    status: 422,
    code: 42292,
    msg: 'this day has not begun yet in RECONCILIATION_TIMEZONE',
  },
  reconciliation_statement_unfetched: {
    status: 422,
    code: 42293,
    msg: "the service cannot fetch this channel's statement yet; reconcile a downloaded one with POST /v1/reconciliations",
  },
  channel_refused: { status: 502, code: 50290, msg: 'the payment channel refused the request' },
  channel_unavailable: {
    status: 503,
    code: 50390,
    msg: 'the payment channel is unavailable; retry later',
  },
} as const satisfies Record<string, Spec>;
