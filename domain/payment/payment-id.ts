import { v5 as uuidv5 } from 'uuid';

/** Fixed forever: payment ids of existing orders depend on it. */
const PAYMENT_ID_NAMESPACE = 'c3a4d0f2-8e57-4b1a-9d26-5f0e7a9b3c41';

/** One payment stream per merchant order: a retried create lands on the same stream. */
export const paymentIdFor = (merchantId: string, merchantOrderNo: string): string =>
  uuidv5(`${merchantId}:${merchantOrderNo}`, PAYMENT_ID_NAMESPACE);
