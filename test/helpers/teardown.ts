/** Stops whatever the global setups started (they register stoppers on globalThis). */
import { runStoppers } from './stoppers';

export default async function teardown(): Promise<void> {
  await runStoppers();
}
