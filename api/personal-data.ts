import type { JSONSchemaType } from 'ajv';
import {
  erasedHolder,
  maskHolder,
  type HolderFields,
  type SealedHolder,
} from '../domain/personal-data/holder';
import type { PersonalDataVault } from '../domain/ports/personal-data.port';
import { ApiError } from './envelope';
import type { ApiState } from './middleware/api-state';
import { idSchema } from './schemas/common.schema';
import type { SecurityPort } from './security-port';

/** Where holder data is sealed and opened, and who may see it in clear. */
export type PersonalDataAccess = { vault: PersonalDataVault; security: SecurityPort };

/** The optional `holder` of account open and payment create bodies. */
export type HolderBody = HolderFields & { subjectId: string };

const text = (maxLength: number, pattern?: string) =>
  ({
    type: 'string',
    nullable: true,
    minLength: 1,
    maxLength,
    ...(pattern === undefined ? {} : { pattern }),
  }) as const;

export const holderSchema: JSONSchemaType<HolderBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['subjectId'],
  minProperties: 2,
  properties: {
    subjectId: idSchema,
    name: text(64),
    nationalId: text(32, '^[0-9A-Za-z]{11,32}$'),
    phone: text(16, '^\\+?[0-9]{8,15}$'),
    bankCard: text(19, '^[0-9]{12,19}$'),
    email: { ...text(254), format: 'email' },
  },
};

/** Seals a request's holder; throws 422 subject_erased for an erased subject. */
export const sealHolder = async (
  access: PersonalDataAccess | undefined,
  holder: HolderBody | undefined,
): Promise<SealedHolder | undefined> => {
  if (holder === undefined) return undefined;
  if (access === undefined)
    throw new ApiError('invalid_request', {
      msg: 'this service keeps no personal data: body.holder is not accepted',
      data: { field: 'holder' },
    });
  const { subjectId, ...fields } = holder;
  const sealed = await access.vault.seal(subjectId, fields);
  if (!sealed.ok) throw new ApiError('subject_erased', { data: { subjectId } });
  return sealed.holder;
};

type HolderView = HolderFields & { subjectId: string; view: 'clear' | 'masked' | 'erased' };

/**
 * The holder as this caller may see it: erased once its subject's key is gone; in clear for a
 * client with `pii:read` (and then recorded as a security event); masked for everyone else.
 */
export const holderView = async (
  ctx: { state: ApiState; ip: string },
  access: PersonalDataAccess | undefined,
  holder: SealedHolder | undefined,
  resource: { type: 'account' | 'payment'; id: string },
): Promise<HolderView | null> => {
  if (holder === undefined || access === undefined) return null;
  const { subjectId } = holder;
  const fields = await access.vault.open(holder);
  if (fields === null) return { subjectId, view: 'erased', ...erasedHolder(holder) };
  if (!access.security.mayReadPii(ctx)) return { subjectId, view: 'masked', ...maskHolder(fields) };
  access.security.record(ctx, 'unmasked_read', {
    resource: resource.type,
    id: resource.id,
    subjectId,
    fields: holder.fields,
  });
  return { subjectId, view: 'clear', ...fields };
};
