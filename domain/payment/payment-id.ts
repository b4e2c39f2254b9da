import { v5 as uuidv5 } from 'uuid';

/** Fixed forever: payment ids of existing orders depend on it. */
const PAYMENT_ID_NAMESPACE = 'c3a4d0f2-8e57-4b1a-9d26-5f0e7a9b3c41';

/** One payment stream per merchant order: a retried create lands on the same stream. */
export const paymentIdFor = (merchantId: string, merchantOrderNo: string): string =>
  uuidv5(`${merchantId}:${merchantOrderNo}`, PAYMENT_ID_NAMESPACE);

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX32_PATTERN = /^[0-9a-f]{32}$/;

/** The order number channels get: the payment id's 32 hex digits (WeChat allows 32 characters). */
export const channelOrderNoOf = (paymentId: string): string => paymentId.replace(/-/g, '');

/** A payment id from a channel's order number: the uuid itself or its 32 hex digits; else null. */
export const paymentIdFromOrderNo = (orderNo: string): string | null => {
  const lower = orderNo.toLowerCase();
  if (UUID_PATTERN.test(lower)) return lower;
  if (!HEX32_PATTERN.test(lower)) return null;
  return `${lower.slice(0, 8)}-${lower.slice(8, 12)}-${lower.slice(12, 16)}-${lower.slice(16, 20)}-${lower.slice(20)}`;
};
