/** Services started once per test run, stopped in reverse order by the global teardown. */
type Stopper = { name: string; stop: () => Promise<void> };

const registry = globalThis as typeof globalThis & { __saasFulfillmentStoppers?: Stopper[]; __saasFulfillmentStarted?: Set<string> };

export function registerStopper(name: string, stop: () => Promise<void>): void {
  (registry.__saasFulfillmentStoppers ??= []).push({ name, stop });
}

/** Whether a named service was already started in this run (several projects share one setup). */
export function startedOnce(name: string): boolean {
  const started = (registry.__saasFulfillmentStarted ??= new Set());
  if (started.has(name)) return true;
  started.add(name);
  return false;
}

export async function runStoppers(): Promise<void> {
  const stoppers = registry.__saasFulfillmentStoppers ?? [];
  registry.__saasFulfillmentStoppers = [];
  registry.__saasFulfillmentStarted = new Set();
  for (const stopper of stoppers.reverse()) {
    try {
      await stopper.stop();
    } catch (error) {
      console.error(`stopping ${stopper.name} failed:`, error);
    }
  }
}
