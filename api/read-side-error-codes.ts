/** The read side's refusals (codes ending 60-79), merged into errorCodes. */
export const readSideErrorCodes = {
  position_not_reached: {
    status: 409,
    code: 40960,
    msg: 'the read models have not reached this position yet; retry shortly',
  },
  rebuild_in_progress: { status: 409, code: 40961, msg: 'a rebuild is already running' },
  generation_not_found: { status: 404, code: 40460, msg: 'no such read-model generation' },
  too_many_watchers: { status: 429, code: 42960, msg: 'too many live watchers; retry later' },
} as const satisfies Record<string, { status: number; code: number; msg: string }>;
