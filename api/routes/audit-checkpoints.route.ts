import type { LogVerification } from '../../domain/audit/log-verifier';
import { sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import type { RouteKit, RouteRegistrar } from '../route-kit';

/**
 * GET /v1/audit/checkpoints/verify (admin, auditor): every stream's hash chain and the log against
 * its signed checkpoints, as `ledger audit verify --json` reports it (ok false: see findings).
 */
export const auditCheckpointRoutes =
  (deps: { verify: () => Promise<LogVerification> }): RouteRegistrar =>
  (kit: RouteKit) => {
    kit.router.get('/audit/checkpoints/verify', requireScope('audit:read'), async (ctx) => {
      sendOk(ctx, await deps.verify());
    });
  };
