/** What came of one POST to a receiver. Only a 2xx answer is a success. */
export type WebhookSendResult =
  { ok: true; httpStatus: number } | { ok: false; httpStatus: number | null; error: string };

/** Outbound webhook requests, refusing targets the service must not reach (SSRF). */
export interface WebhookSender {
  /** Why `url` may not be a target (its host resolved and checked), or null when it may. */
  refusal(url: string): Promise<string | null>;
  /** POSTs the body once, bounded by the sender's timeout; never follows a redirect. */
  send(request: {
    url: string;
    headers: Readonly<Record<string, string>>;
    body: string;
  }): Promise<WebhookSendResult>;
}
