import { UnavailableError } from '../../domain/ports/event-store.port';

const OUTAGE_CODES = ['SQLITE_BUSY', 'SQLITE_IOERR', 'SQLITE_FULL'];

/** Runs one SQLite operation; a locked, broken or full disk is thrown as UnavailableError (503). */
export const sqliteGuarded = <T>(label: string, work: () => T): T => {
  try {
    return work();
  } catch (error: unknown) {
    const code =
      typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    if (OUTAGE_CODES.some((prefix) => code.startsWith(prefix)))
      throw new UnavailableError(`${label}: ${code}`, { cause: error });
    throw error;
  }
};
