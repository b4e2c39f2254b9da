/** What a decider returns: the events to append, or an expected business rejection. */
export type Decision<Event, Rejection extends string> =
  | { readonly ok: true; readonly events: readonly Event[] }
  | { readonly ok: false; readonly rejection: Rejection; readonly detail: RejectionDetail };

/** Extra facts about a rejection, e.g. which field of a retried command differs. */
export type RejectionDetail = Readonly<Record<string, string | number | boolean | null>>;

export const accept = <Event>(...events: Event[]): { ok: true; events: readonly Event[] } => ({
  ok: true,
  events,
});

export const reject = <Rejection extends string>(
  rejection: Rejection,
  detail: RejectionDetail = {},
): { ok: false; rejection: Rejection; detail: RejectionDetail } => ({
  ok: false,
  rejection,
  detail,
});
