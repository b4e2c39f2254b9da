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
};

export const trafficView = (userId: string, user: TrafficUserState): TrafficView => {
  const { quotaBytes, uploadBytes, downloadBytes, exceeded } = user;
  const usedBytes = usedBytesOf(user);
  const remainingBytes = Math.max(0, quotaBytes - usedBytes);
  return { userId, quotaBytes, uploadBytes, downloadBytes, usedBytes, remainingBytes, exceeded };
};
