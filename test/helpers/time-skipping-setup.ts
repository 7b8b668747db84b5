/**
 * Starts one Java time-skipping test server for the workflow suites (or uses
 * TEMPORAL_TEST_SERVER_ADDRESS) and hands its address to them in TEST_TIME_SKIPPING_ADDRESS.
 * Starting it here, not in each suite, avoids the SDK's 5-second start limit and a JVM
 * start per file.
 */
import os from 'node:os';
import path from 'node:path';
import { startTimeSkippingServer } from '../../src/dev/temporal-servers';
import { lockedTimeSkippingEnv } from './workflow-env';
import { registerStopper, startedOnce } from './stoppers';

export default async function setup(): Promise<void> {
  if (startedOnce('time-skipping')) return;
  let address = process.env.TEMPORAL_TEST_SERVER_ADDRESS;
  if (!address) {
    const server = await startTimeSkippingServer({ logFile: path.join(os.tmpdir(), 'saas-fulfillment-test-server.log') });
    registerStopper('time-skipping test server', server.stop);
    address = server.address;
  }
  const env = await lockedTimeSkippingEnv(address);
  await env.teardown();
  process.env.TEST_TIME_SKIPPING_ADDRESS = address;
}
