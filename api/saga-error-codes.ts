/** Errors of the saga and plan routes (codes ending 80-89), merged into errorCodes. */
type Spec = { readonly status: 404 | 409; readonly code: number; readonly msg: string };

export const sagaErrorCodes = {
  saga_not_found: { status: 404, code: 40480, msg: 'no such saga' },
  plan_not_found: { status: 404, code: 40481, msg: 'no such plan' },
  saga_not_dead_lettered: {
    status: 409,
    code: 40980,
    msg: 'only a dead-lettered saga can be retried',
  },
  saga_already_exists: {
    status: 409,
    code: 40981,
    msg: 'this purchaseId was used with other terms',
  },
  plan_already_exists: {
    status: 409,
    code: 40982,
    msg: 'a plan with this planId exists with other terms',
  },
  plan_retired: { status: 409, code: 40983, msg: 'the plan is retired' },
} as const satisfies Record<string, Spec>;
