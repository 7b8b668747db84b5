/**
 * A data directory under a private folder: as root, the embedded PostgreSQL runs as the
 * `postgres` account, which cannot pass through a 0700 folder it does not own. `npm start`
 * refuses such a directory before anything starts, naming the folder and the fix, instead of
 * letting initdb fail with "Permission denied".
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { firstClosedFolder, type UnixAccount } from '../../src/dev/postgres-account-access';

let privateParent: string;
let dataDir: string;

beforeEach(() => {
  // mkdtemp creates the folder with mode 0700, as `mktemp -d` does.
  privateParent = mkdtempSync(path.join(os.tmpdir(), 'saas-fulfillment-private-'));
  dataDir = path.join(privateParent, 'data', 'postgres');
});

afterEach(() => {
  rmSync(privateParent, { recursive: true, force: true });
});

describe('firstClosedFolder', () => {
  const stranger: UnixAccount = { name: 'stranger', uid: 4242, gids: [4242] };

  test('when a parent is 0700 and owned by someone else, then that parent is the closed folder', () => {
    const stats = statSync(privateParent);
    expect(stats.mode & 0o777).toBe(0o700);

    expect(firstClosedFolder(dataDir, stranger)).toEqual({ folder: privateParent, mode: 0o700, uid: stats.uid, gid: stats.gid });
  });

  test('when others may pass through (o+x), then nothing is closed', () => {
    chmodSync(privateParent, 0o701);
    expect(firstClosedFolder(dataDir, stranger)).toBeUndefined();
  });

  test('when the account owns the folder, then its owner bits decide', () => {
    const owner: UnixAccount = { name: 'owner', uid: statSync(privateParent).uid, gids: [] };
    expect(firstClosedFolder(dataDir, owner)).toBeUndefined();
  });

  test('when the account is in the folder group, then the group bits decide, not the others', () => {
    const member: UnixAccount = { name: 'member', uid: 4242, gids: [statSync(privateParent).gid] };
    chmodSync(privateParent, 0o710);
    expect(firstClosedFolder(dataDir, member)).toBeUndefined();
    chmodSync(privateParent, 0o701);
    expect(firstClosedFolder(dataDir, member)).toEqual(expect.objectContaining({ folder: privateParent }));
  });

  test('when the account does not exist yet, then only the bits for others count', () => {
    const notYetCreated: UnixAccount = { name: 'postgres', gids: [] };
    expect(firstClosedFolder(dataDir, notYetCreated)).toEqual(expect.objectContaining({ folder: privateParent }));
  });
});

const asRoot = process.getuid?.() === 0 ? test : test.skip;

describe('startEmbeddedPostgres', () => {
  asRoot('when run as root with the data directory under a 0700 folder, then it refuses up front, naming the folder and the fix', async () => {
    const started = Date.now();
    const error = await startEmbeddedPostgres({ dataDir, persistent: false }).then(
      () => new Error('expected a refusal'),
      (refusal: unknown) => refusal,
    );

    // Node's own errors can come from another realm than jest's, so the message is read directly.
    const message = String((error as { message?: unknown }).message);
    expect(message).toContain(`The PostgreSQL data directory ${dataDir} cannot be used`);
    expect(message).toContain(`cannot enter ${privateParent} (mode 0700`);
    expect(message).toContain('DEV_DATA_DIR=');
    expect(message).toContain(`chmod o+x ${privateParent}`);
    // Refused before initdb ran: no cluster was created.
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
