/** Load shapes and the figures the benchmarks print. */
import { performance } from 'node:perf_hooks';

export interface LoadResult {
  count: number;
  seconds: number;
  /** Completed operations per second. */
  rate: number;
  /** Milliseconds, sorted. */
  latencies: number[];
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** `count` operations, `concurrency` at a time (a closed loop: the maximum rate). */
export async function closedLoop(count: number, concurrency: number, operation: (i: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const runner = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const t0 = performance.now();
      await operation(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, runner));
  const seconds = (performance.now() - started) / 1000;
  return { count, seconds, rate: count / seconds, latencies: latencies.sort((a, b) => a - b) };
}

/** Operations started at a fixed rate for `durationMs`, whatever the answers (an open loop: latency at a given load). */
export async function openLoop(ratePerSecond: number, durationMs: number, operation: (i: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const intervalMs = 1000 / ratePerSecond;
  const started = performance.now();
  for (let i = 0; performance.now() - started < durationMs; i += 1) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const t0 = performance.now();
    pending.push(operation(i).then(() => void latencies.push(performance.now() - t0)));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  return { count: latencies.length, seconds, rate: latencies.length / seconds, latencies: latencies.sort((a, b) => a - b) };
}

export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

export function line(label: string, value: string): void {
  console.log(`${label.padEnd(58)} ${value}`);
}

export function describeLoad(label: string, result: LoadResult): void {
  line(label, `${fmt(result.rate)} /s   p50 ${fmt(percentile(result.latencies, 50))} ms   p99 ${fmt(percentile(result.latencies, 99))} ms   (n=${result.count})`);
}

/** A goal as a ratio against the limit measured in the same run. */
export function goal(label: string, ratio: number, target: string, met: boolean): void {
  line(label, `${fmt(ratio, 2)}   goal ${target}   ${met ? 'met' : 'NOT MET'}`);
}
