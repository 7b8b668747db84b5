/**
 * How much the fuzz runs and from which seed.
 *
 *   FUZZ_RUNS  cases in the whole suite (default 3000, what CI runs); each property gets
 *              its share, at least one case.
 *   FUZZ_SEED  the seed (default a fixed one, so CI runs the same cases every time).
 *   FUZZ_PATH  with FUZZ_SEED, replays one failure's shrunk case (fast-check's `path`);
 *              select its property with `-t '<name>'`.
 *
 * A failure names its seed and path and the command that replays it.
 */
import fc from 'fast-check';

const DEFAULT_RUNS = 3000;
const DEFAULT_SEED = 20_260_007;

function integerFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

export const fuzzSettings = {
  totalRuns: Math.max(1, integerFromEnv('FUZZ_RUNS', DEFAULT_RUNS)),
  seed: integerFromEnv('FUZZ_SEED', DEFAULT_SEED),
  path: process.env.FUZZ_PATH?.trim() || undefined,
};

/** A property's share of FUZZ_RUNS, at least `min` cases. */
export function runsFor(share: number, min = 1): number {
  return Math.max(min, Math.round(fuzzSettings.totalRuns * share));
}

/** Jest's timeout for a property of `runs` cases: generous, since a long run is meant to be long. */
export function timeoutFor(runs: number, msPerCase = 60): number {
  return 120_000 + runs * msPerCase;
}

/** What a property saw, for the closing line: answers by status, and how many requests. */
export class Tally {
  readonly answers = new Map<string, number>();
  requests = 0;

  count(status: number, code?: string): void {
    this.requests += 1;
    const key = code ? `${status} ${code}` : String(status);
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
  }

  summary(): string {
    return [...this.answers.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, n]) => `${key}×${n}`)
      .join(', ');
  }
}

/**
 * Runs `property` for `runs` cases from the suite's seed and throws a readable failure:
 * the property, the seed and path to replay it, the shrunk case (as `describe` shows it)
 * and what went wrong.
 */
export async function checkProperty<T>(
  name: string,
  property: fc.IAsyncProperty<[T]>,
  options: { runs: number; tally: Tally; describe: (value: T) => string },
): Promise<void> {
  const started = Date.now();
  const details = await fc.check(property, {
    seed: fuzzSettings.seed,
    numRuns: options.runs,
    ...(fuzzSettings.path ? { path: fuzzSettings.path } : {}),
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (!details.failed) {
    console.log(`fuzz: ${name}: ${details.numRuns} cases, ${options.tally.requests} requests in ${seconds} s (seed ${details.seed}); answers ${options.tally.summary()}`);
    return;
  }
  const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''} npm run fuzz -- -t '${name}'`;
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const example = details.counterexample ? clip(options.describe(details.counterexample[0]), 4000) : '(none)';
  throw new Error(
    [
      `fuzz property failed: ${name}`,
      `seed ${details.seed}, path ${details.counterexamplePath ?? '?'}, after ${details.numRuns} cases and ${details.numShrinks} shrinks (${seconds} s)`,
      `replay: ${replay}`,
      `case: ${example}`,
      `failure: ${clip(error, 4000)}`,
    ].join('\n'),
  );
}

/**
 * A jest test named `<name>: <description>` that checks the property for its share of
 * FUZZ_RUNS (at least `min` cases). `-t '<name>'` selects it, as the replay line says.
 */
export function fuzzTest<T>(
  name: string,
  description: string,
  plan: { share: number; min?: number; msPerCase?: number },
  property: (tally: Tally) => fc.IAsyncProperty<[T]>,
): void {
  const runs = runsFor(plan.share, plan.min);
  test(
    `${name}: ${description}`,
    async () => {
      const tally = new Tally();
      await checkProperty(name, property(tally), { runs, tally, describe: describeCase });
    },
    timeoutFor(runs, plan.msPerCase),
  );
}

/** Long text cut in the middle, saying how much was left out. */
export function clip(text: string, max = 600): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}…[${text.length - max} characters]…${text.slice(-half)}`;
}

/** A generated case as text for a failure report: long strings shortened, RawJson shown as such. */
export function describeCase(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string' && v.length > 200) return `${v.slice(0, 80)}…[${v.length} characters]`;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && v.constructor?.name === 'RawJson') return String(v);
    return v;
  });
  return text ?? String(value);
}
