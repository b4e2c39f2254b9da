import { usedBytesOf, type TrafficUserState } from './traffic.model';

/** GET /v1/traffic/users/:userId: plain JSON numbers, all byte counts safe integers. */
type TrafficView = {
  userId: string;
  quotaBytes: number;
  uploadBytes: number;
  downloadBytes: number;
  usedBytes: number;
  /** Never negative: usage past the quota shows as 0 remaining, with exceeded true. */
  remainingBytes: number;
  exceeded: boolean;
  /** As bought: it counts only until expiresAt (a node's list uses effectiveLevelOf). */
  level: number;
  group: string;
  expiresAt: string | null;
};

export const trafficView = (userId: string, user: TrafficUserState): TrafficView => {
  const { quotaBytes, uploadBytes, downloadBytes, exceeded, level, group, expiresAt } = user;
  const usedBytes = usedBytesOf(user);
  const remainingBytes = Math.max(0, quotaBytes - usedBytes);
  const usage = { quotaBytes, uploadBytes, downloadBytes, usedBytes, remainingBytes, exceeded };
  return { userId, ...usage, level, group, expiresAt };
};
