import type { HolderFields, SealedHolder } from '../personal-data/holder';

export type SealResult =
  { ok: true; holder: SealedHolder } | { ok: false; reason: 'subject_erased' };
export type EraseResult =
  { ok: true; erasedAt: string } | { ok: false; reason: 'subject_not_found' };

/**
 * The per-subject keys of personal data, kept outside the event log. Erasing a subject destroys
 * its key: every SealedHolder of that subject becomes unreadable for good, wherever it is stored.
 */
export interface PersonalDataVault {
  /** Encrypts the fields under the subject's key (created on first use); refused once erased. */
  seal(subjectId: string, fields: HolderFields): Promise<SealResult>;
  /** The clear fields, or null when the subject was erased. */
  open(holder: SealedHolder): Promise<HolderFields | null>;
  /** Destroys the subject's key; an already erased subject answers its first erasure's time. */
  erase(subjectId: string, erasedAt: string): Promise<EraseResult>;
}
