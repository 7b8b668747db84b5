/**
 * `npm run bench`: throughput of the hot paths that every request crosses, and the latency
 * of a signed merchant call over loopback against the 5-second budget the marketplace gives
 * a merchant (spec §1.1), then the settlement bill run (bench/settlement, at BENCH_LINES).
 * Prints figures and ratios; asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { createHttpMerchantClient } from '../src/clients/merchant';
import { startMerchantSim } from '../src/merchant-sim';
import { computeV2Signature, NonceCache, signV2Request, verifyV2Request } from '../src/protocol/signing';
import { createEncryptor, parseDataKey } from '../src/platform/security/encryption';
import { signWebhook, verifyWebhook } from '../src/platform/security/standard-webhooks';
import { benchSettlement } from './settlement/bench';

const body = JSON.stringify({
  activity: 'newInstance',
  businessId: '87b94795-0603-4e24-8ae5-69420d60e3c8',
  orderId: 'CS2211181819B4LVS',
  orderLineId: 'CS2211181819B4LVS-000001',
  testFlag: '1',
});

function opsPerSecond(name: string, iterations: number, work: (i: number) => void): number {
  for (let i = 0; i < Math.min(1000, iterations); i += 1) work(i);
  const started = performance.now();
  for (let i = 0; i < iterations; i += 1) work(i);
  const seconds = (performance.now() - started) / 1000;
  const rate = iterations / seconds;
  console.log(`${name.padEnd(44)} ${Math.round(rate).toLocaleString('en').padStart(12)} ops/s`);
  return rate;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  console.log('# CPU paths');
  const sign = opsPerSecond('V2 sign (two HMAC-SHA256)', 100_000, () => signV2Request('myAccessKey123', body));
  const signed = signV2Request('myAccessKey123', body);
  const verify = opsPerSecond('V2 verify (timestamp, signature, nonce)', 100_000, (i) => {
    verifyV2Request({ accessKey: 'myAccessKey123', body, params: { ...signed, nonce: `n${i}` }, nowMs: Number(signed.timestamp) });
  });
  opsPerSecond('V2 signature only', 100_000, () => computeV2Signature('myAccessKey123', signed.nonce, signed.timestamp, body));
  const cache = new NonceCache();
  opsPerSecond('nonce cache remember', 200_000, (i) => cache.remember(`nonce-${i}`));
  const secret = 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LW5vdC1mb3ItcHJvZHVjdGlvbg==';
  const headers = signWebhook(secret, 'msg_1', body);
  opsPerSecond('Standard Webhooks verify', 100_000, () => verifyWebhook({ secret, headers, body }));
  const encryptor = createEncryptor([parseDataKey(Buffer.alloc(32, 1).toString('base64'))]);
  const sealed = encryptor.encrypt(body);
  opsPerSecond('AES-256-GCM encrypt (app info size)', 50_000, () => encryptor.encrypt(body));
  opsPerSecond('AES-256-GCM decrypt', 50_000, () => encryptor.decrypt(sealed));
  console.log(`ratio verify/sign                             ${(verify / sign).toFixed(2)}`);

  console.log('\n# Signed newInstance over loopback to the reference merchant');
  const sim = await startMerchantSim({ accessKey: 'bench-key' });
  const client = createHttpMerchantClient({ timeoutMs: 5000 });
  const endpoint = { merchantId: 'bench', productionUrl: sim.url, accessKey: 'bench-key' };
  const calls = 2000;
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < calls; i += 1) {
    const t0 = performance.now();
    const result = await client.post(endpoint, { activity: 'newInstance', orderId: `B${i}`, orderLineId: `B${i}-1`, businessId: `b-${i}` });
    latencies.push(performance.now() - t0);
    if ((result.json as { resultCode?: string } | undefined)?.resultCode !== '000000') throw new Error(`call ${i} failed: ${JSON.stringify(result)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(`calls                                        ${calls}`);
  console.log(`throughput (sequential)                      ${Math.round(calls / seconds)} calls/s`);
  console.log(`latency p50 / p99 / max                      ${p50.toFixed(2)} / ${p99.toFixed(2)} / ${latencies[latencies.length - 1]!.toFixed(2)} ms`);
  console.log(`ratio p99 / 5 s marketplace timeout          ${(p99 / 5000).toExponential(2)}`);
  console.log(`instances created (idempotency check)        ${sim.createdCount()} of ${calls}`);
  const rss = process.memoryUsage().rss / 1024 / 1024;
  console.log(`\nprocess RSS after the run                    ${rss.toFixed(0)} MiB`);
  await sim.close();

  console.log('');
  await benchSettlement({ lines: Number(process.env.BENCH_LINES ?? 200_000), merchants: Number(process.env.BENCH_MERCHANTS ?? 1000) });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
