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

/** Redelivery delay for the n-th delivery (1-based) from a back-off list whose last entry repeats. */
export const backoffDelayMs = (backoffMs: readonly number[], deliveryCount: number): number =>
  backoffMs[Math.min(deliveryCount - 1, backoffMs.length - 1)] ?? 0;
