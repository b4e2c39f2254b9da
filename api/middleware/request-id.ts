import { v7 as uuidv7 } from 'uuid';
import type { AppMiddleware } from './api-state';

/** Inbound ids are echoed only when harmless to log and to put back in a header. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Sets ctx.state.requestId and the X-Request-Id response header; runs before everything else. */
export const requestId = (): AppMiddleware => (ctx, next) => {
  const inbound = ctx.get('X-Request-Id');
  const id = REQUEST_ID_PATTERN.test(inbound) ? inbound : uuidv7();
  ctx.state.requestId = id;
  ctx.set('X-Request-Id', id);
  return next();
};
