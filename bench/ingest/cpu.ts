/**
 * Which process pays for an order: CPU time (user + system, kernel work for sockets included)
 * of each process tree on this machine, read from /proc before and after a load. Rates and
 * latencies move by tens of percent on two shared cores; CPU per order moves far less, and it
 * says where an order's cost goes (Linux only; elsewhere every figure reads n/a).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fmt, line } from './load';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Own CPU seconds of one process (0 when it is gone). */
function ownCpuSeconds(pid: number): number {
  // The fields after the command name, which may itself hold spaces and parentheses.
  const fields = readOrEmpty(`/proc/${pid}/stat`).split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / TICKS_PER_SECOND;
}

function childrenOf(pid: number): number[] {
  const tasks = (() => {
    try {
      return readdirSync(`/proc/${pid}/task`);
    } catch {
      return [];
    }
  })();
  return tasks.flatMap((task) => readOrEmpty(`/proc/${pid}/task/${task}/children`).split(' ').filter(Boolean).map(Number));
}

/** CPU seconds of processes and all their descendants (a server's workers, PostgreSQL's backends). */
function treeCpuSeconds(pids: number[]): number {
  let total = 0;
  for (const queue = [...pids]; queue.length > 0; ) {
    const pid = queue.pop() as number;
    total += ownCpuSeconds(pid);
    queue.push(...childrenOf(pid));
  }
  return total;
}

/** Processes whose command line matches, e.g. the server listening on a given port. */
export function pidsMatching(pattern: RegExp): number[] {
  const all = (() => {
    try {
      return readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    } catch {
      return [];
    }
  })();
  return all.map(Number).filter((pid) => pattern.test(readOrEmpty(`/proc/${pid}/cmdline`).replaceAll('\0', ' ')));
}

/** Each role's CPU seconds so far; undefined when its processes are not on this machine. */
export type Roles = Record<string, () => number | undefined>;

/** A role played by process trees found when sampled. */
export const processTrees =
  (pids: () => number[]): (() => number | undefined) =>
  () => {
    const found = pids().filter((pid) => pid > 0);
    return found.length > 0 ? treeCpuSeconds(found) : undefined;
  };

/** This process alone (the load generator, the reference merchant and the order-system sink). */
export const thisProcess = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** Starts measuring; the returned function prints CPU ms per operation for each role. */
export function startCpuMeter(roles: Roles): (label: string, operations: number) => void {
  const sample = (): Array<number | undefined> => Object.values(roles).map((seconds) => seconds());
  const before = sample();
  return (label, operations) => {
    const after = sample();
    const cells = Object.keys(roles).map((role, i) => {
      const [a, b] = [after[i], before[i]];
      return `${role} ${a === undefined || b === undefined ? 'n/a' : fmt(((a - b) * 1000) / operations)}`;
    });
    line(`  CPU ms per order: ${label}`, cells.join('   '));
  };
}
