import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  HOLDER_FIELDS,
  holderFieldsOf,
  type HolderFields,
} from '../../domain/personal-data/holder';
import type { PersonalDataVault } from '../../domain/ports/personal-data.port';
import { assert } from '../../domain/assert';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';

const SCHEMA_VERSION = 1;
const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS subject_keys (
    subject_id TEXT PRIMARY KEY,
    key BLOB,
    created_at TEXT NOT NULL,
    erased_at TEXT
  ) WITHOUT ROWID;
`;

const KEY_BYTES = 32;
const IV_BYTES = 12;
const SEALED_VERSION = 'v1';

type KeyRow = { key: Buffer | null; erased_at: string | null };

/**
 * The PersonalDataVault on a SQLite database of its own (DATA_DIR/subject-keys.sqlite): one
 * random AES-256 key per subject, AES-256-GCM with a random 96-bit IV and the subject id as
 * additional data. Erasure sets the key to NULL with secure_delete on and truncates the WAL, so
 * that the key's bytes are overwritten on disk, not only unlinked. Keys are never cached, so an
 * erasure by another process (the CLI) takes effect at once.
 */
export const createSqlitePersonalDataVault = (
  database: SqliteDatabase,
  nowIso: () => string,
): PersonalDataVault => {
  database.pragma('secure_delete = ON');
  ensureSchema(database, 'subject_keys', SCHEMA_VERSION, (db) => db.exec(SCHEMA_SQL));
  const select = database.prepare<[string], KeyRow>(
    'SELECT key, erased_at FROM subject_keys WHERE subject_id = ?',
  );
  const insert = database.prepare<[string, Buffer, string]>(
    'INSERT INTO subject_keys (subject_id, key, created_at) VALUES (?, ?, ?) ' +
      'ON CONFLICT (subject_id) DO NOTHING',
  );
  const destroy = database.prepare<[string, string]>(
    'UPDATE subject_keys SET key = NULL, erased_at = coalesce(erased_at, ?) WHERE subject_id = ?',
  );
  const keyFor = (subjectId: string): KeyRow => {
    insert.run(subjectId, randomBytes(KEY_BYTES), nowIso());
    const row = select.get(subjectId);
    assert(row !== undefined, 'subject key row vanished after insert');
    return row;
  };
  return {
    seal: async (subjectId, fields) => {
      const { key } = keyFor(subjectId);
      if (key === null) return { ok: false, reason: 'subject_erased' };
      const present = holderFieldsOf(fields);
      const clear = Object.fromEntries(present.map((field) => [field, fields[field]]));
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(subjectId, 'utf8'));
      const ciphertext = Buffer.concat([
        cipher.update(JSON.stringify(clear), 'utf8'),
        cipher.final(),
      ]);
      const sealed = [SEALED_VERSION, iv, ciphertext, cipher.getAuthTag()]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
      return { ok: true, holder: { subjectId, fields: present, sealed } };
    },
    open: async (holder) => {
      const row = select.get(holder.subjectId);
      if (row === undefined || row.key === null) return null;
      const [version, iv, ciphertext, tag] = holder.sealed.split('.');
      assert(
        version === SEALED_VERSION &&
          iv !== undefined &&
          ciphertext !== undefined &&
          tag !== undefined,
        'sealed holder: not v1.<iv>.<ciphertext>.<tag>',
      );
      const decipher = createDecipheriv('aes-256-gcm', row.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(holder.subjectId, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const clear = Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(), // Throws on a tampered ciphertext or tag.
      ]).toString('utf8');
      const parsed = JSON.parse(clear) as Record<string, unknown>;
      const fields: HolderFields = {};
      for (const field of HOLDER_FIELDS) {
        const value = parsed[field];
        if (typeof value === 'string') fields[field] = value;
      }
      return fields;
    },
    erase: async (subjectId, erasedAt) => {
      destroy.run(erasedAt, subjectId);
      const row = select.get(subjectId);
      if (row === undefined) return { ok: false, reason: 'subject_not_found' };
      database.pragma('wal_checkpoint(TRUNCATE)');
      assert(row.erased_at !== null, 'erased subject without erased_at');
      return { ok: true, erasedAt: row.erased_at };
    },
  };
};
