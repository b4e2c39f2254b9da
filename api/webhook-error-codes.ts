/** Errors of the webhook routes (codes ending 75-79), merged into errorCodes. */
type Spec = { readonly status: 404 | 422; readonly code: number; readonly msg: string };

export const webhookErrorCodes = {
  webhook_endpoint_not_found: { status: 404, code: 40475, msg: 'no such webhook endpoint' },
  webhook_delivery_not_found: { status: 404, code: 40476, msg: 'no such webhook delivery' },
  webhook_url_refused: {
    status: 422,
    code: 42275,
    msg: 'the webhook URL may not be a target (private, loopback or link-local, or not http(s))',
  },
  webhook_endpoint_limit: {
    status: 422,
    code: 42276,
    msg: 'this merchant has the most webhook endpoints allowed',
  },
} as const satisfies Record<string, Spec>;
