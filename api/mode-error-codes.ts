/**
 * Errors of test and live modes (domain/mode/mode.ts). Merged into errorCodes (api/error-codes.ts).
 */
type Spec = { readonly status: 403 | 422; readonly code: number; readonly msg: string };

export const modeErrorCodes = {
  sandbox_disabled: {
    status: 403,
    code: 40380,
    msg: 'the sandbox channel is switched off in this deployment (SANDBOX_ENABLED=false)',
  },
  live_mode_sandbox_refused: {
    status: 403,
    code: 40381,
    msg: 'a live-mode key cannot use the sandbox channel; use a test-mode key',
  },
  test_mode_channel_refused: {
    status: 403,
    code: 40382,
    msg: 'a test-mode key can use only the sandbox channel; use a live-mode key',
  },
  mode_mismatch: {
    status: 422,
    code: 42280,
    msg: 'the object named belongs to the other mode (test or live)',
  },
} as const satisfies Record<string, Spec>;
