/** NATS subject matching: `*` matches one token, `>` one or more trailing tokens. */
export const subjectMatches = (filter: string, subject: string): boolean => {
  const wanted = filter.split('.');
  const actual = subject.split('.');
  for (let index = 0; index < wanted.length; index += 1) {
    const token = wanted[index];
    if (token === '>') return actual.length > index;
    if (index >= actual.length) return false;
    if (token !== '*' && token !== actual[index]) return false;
  }
  return wanted.length === actual.length;
};

/** Distinct subjects a matcher remembers before it starts over. */
const REMEMBERED_SUBJECT_COUNT_MAX = 1024;

/**
 * Matches subjects against a fixed set of filters, remembering each subject's answer: event
 * subjects repeat (category and type), so a busy consumer splits each one once, not per message.
 */
export const createSubjectMatcher = (
  filters: readonly string[],
): ((subject: string) => boolean) => {
  const remembered = new Map<string, boolean>();
  return (subject) => {
    const known = remembered.get(subject);
    if (known !== undefined) return known;
    const matched = filters.some((filter) => subjectMatches(filter, subject));
    if (remembered.size >= REMEMBERED_SUBJECT_COUNT_MAX) remembered.clear();
    remembered.set(subject, matched);
    return matched;
  };
};

/** Redelivery delay for the n-th delivery (1-based) from a back-off list whose last entry repeats. */
export const backoffDelayMs = (backoffMs: readonly number[], deliveryCount: number): number =>
  backoffMs[Math.min(deliveryCount - 1, backoffMs.length - 1)] ?? 0;
