import type { SigningStore } from '../domain/ports/request-signing.port';
import type { RateLimits } from './middleware/rate-limit';

/** The API governance layer: rate limits and request signing. */
export type Governance = {
  rateLimits: RateLimits;
  signing: SigningStore;
};
