/**
 * The benchmark's reference workflows, the limits a real workflow is measured against: one
 * that only receives a signal (raw signalWithStart cost), and one that runs one activity.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

export const pokeSignal = defineSignal<[unknown]>('poke');

/** Started with signal-with-start and never run by a worker: what raw ingest costs Temporal. */
export async function benchSignalled(): Promise<void> {
  let poked = false;
  setHandler(pokeSignal, () => void (poked = true));
  await condition(() => poked);
}

const { benchNoop } = proxyActivities<{ benchNoop(): Promise<void> }>({ startToCloseTimeout: '30s' });

/** One activity, nothing else: the cheapest useful workflow. */
export async function benchOneActivity(): Promise<void> {
  await benchNoop();
}
