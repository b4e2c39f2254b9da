import type { SigningStore } from '../domain/ports/request-signing.port';
import type { RateLimits } from './middleware/rate-limit';
import type { SecurityPort } from './security-port';

/** The API governance layer: limits, request signing and where security events go. */
export type Governance = {
  rateLimits: RateLimits;
  signing: SigningStore;
  security: SecurityPort;
};
