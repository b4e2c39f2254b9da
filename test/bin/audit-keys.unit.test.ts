import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDirPublicKeyFiles, loadCheckpointSigner, readPublicKeys } from '../../bin/audit-keys';

describe('the checkpoint signing key', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-keys-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is generated once (mode 0600), its public key written beside it', () => {
    const generated = loadCheckpointSigner(dataDir, null);
    expect(statSync(join(dataDir, 'audit-signing-key.pem')).mode & 0o777).toBe(0o600);
    expect(loadCheckpointSigner(dataDir, null).keyId).toBe(generated.keyId);
    expect([...readPublicKeys(dataDirPublicKeyFiles(dataDir)).keys()]).toEqual([generated.keyId]);
  });

  it('keeps the public key it replaces when another key is configured: both stay trusted', () => {
    const generated = loadCheckpointSigner(dataDir, null);
    const keyFile = join(dataDir, 'supplied.pem');
    writeFileSync(
      keyFile,
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const supplied = loadCheckpointSigner(dataDir, keyFile);
    expect(supplied.keyId).not.toBe(generated.keyId);
    const trusted = readPublicKeys(dataDirPublicKeyFiles(dataDir));
    expect([...trusted.keys()].sort()).toEqual([generated.keyId, supplied.keyId].sort());
  });

  it('refuses a key that is not Ed25519, naming the file', () => {
    const keyFile = join(dataDir, 'rsa.pem');
    writeFileSync(
      keyFile,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }),
    );
    expect(() => loadCheckpointSigner(dataDir, keyFile)).toThrow(
      `${keyFile}: an Ed25519 key is needed, got rsa`,
    );
  });
});
