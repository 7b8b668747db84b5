/**
 * CLI entry of the reference merchant: `tsx src/merchant-sim/main.ts`.
 *
 *   MERCHANT_SIM_PORT           port to listen on (default 4000; 0 picks a free one)
 *   MERCHANT_SIM_ACCESS_KEY     access key bound to the production address (required)
 *   MERCHANT_SIM_CONTROL_TOKEN  enables /_control behind `Authorization: Bearer <token>` (optional)
 *   MERCHANT_SIM_ASYNC          `true` to provision asynchronously (create answers 000004); default `false`
 *   MERCHANT_SIM_SYNC_KEY       enables the Kit sync endpoints (spec §7), verified with this sync key
 *   MERCHANT_SIM_APP_PRIVATE_KEY_FILE  with the sync key: the application's RSA private key (PEM
 *                               file) that decrypts clientSecret
 *   MERCHANT_SIM_OAEP_HASH      `sha256` (default) or `sha1`; MERCHANT_SIM_OAEP_ENCODING `base64` (default) or `hex`
 *
 * Prints the production URL; the keys and the control token are never printed.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { startMerchantSim } from './server';

const envSchema = z.object({
  MERCHANT_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  MERCHANT_SIM_ACCESS_KEY: z.string().min(1),
  MERCHANT_SIM_CONTROL_TOKEN: z.string().min(1).optional(),
  // Explicit parsing: Boolean('false') would be true.
  MERCHANT_SIM_ASYNC: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  MERCHANT_SIM_SYNC_KEY: z.string().min(1).optional(),
  MERCHANT_SIM_APP_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  MERCHANT_SIM_OAEP_HASH: z.enum(['sha256', 'sha1']).default('sha256'),
  MERCHANT_SIM_OAEP_ENCODING: z.enum(['base64', 'hex']).default('base64'),
})
  // The Kit endpoints need both: the key that signs the calls and the key that decrypts the secret.
  .refine((env) => Boolean(env.MERCHANT_SIM_SYNC_KEY) === Boolean(env.MERCHANT_SIM_APP_PRIVATE_KEY_FILE), {
    path: ['MERCHANT_SIM_APP_PRIVATE_KEY_FILE'],
    message: 'MERCHANT_SIM_SYNC_KEY and MERCHANT_SIM_APP_PRIVATE_KEY_FILE go together (the Kit endpoints need both)',
  });

/** Reads the simulator's keys from the environment; empty values count as unset. */
function readEnv(env: NodeJS.ProcessEnv): z.infer<typeof envSchema> {
  const keys = Object.keys(envSchema.shape);
  const present = Object.fromEntries(keys.filter((key) => env[key]).map((key) => [key, env[key]]));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    // Name the bad keys and why, never their values: one of them is a secret.
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid merchant-sim environment:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const env = readEnv(process.env);
  const sim = await startMerchantSim({
    accessKey: env.MERCHANT_SIM_ACCESS_KEY,
    port: env.MERCHANT_SIM_PORT,
    ...(env.MERCHANT_SIM_CONTROL_TOKEN ? { controlToken: env.MERCHANT_SIM_CONTROL_TOKEN } : {}),
    ...(env.MERCHANT_SIM_ASYNC ? { asyncProvisioning: { readyAfterQueries: 1 } } : {}),
    ...(env.MERCHANT_SIM_SYNC_KEY && env.MERCHANT_SIM_APP_PRIVATE_KEY_FILE
      ? {
          kit: {
            syncKey: env.MERCHANT_SIM_SYNC_KEY,
            privateKeyPem: readFileSync(env.MERCHANT_SIM_APP_PRIVATE_KEY_FILE, 'utf8'),
            oaep: { hash: env.MERCHANT_SIM_OAEP_HASH, encoding: env.MERCHANT_SIM_OAEP_ENCODING },
          },
        }
      : {}),
  });
  console.log(`merchant-sim production URL: ${sim.url}`);
  console.log(`merchant-sim provisioning: ${env.MERCHANT_SIM_ASYNC ? 'asynchronous (000004)' : 'synchronous'}`);
  console.log(`merchant-sim control API: ${env.MERCHANT_SIM_CONTROL_TOKEN ? 'enabled at /_control' : 'disabled'}`);
  console.log(`merchant-sim Kit sync endpoints: ${env.MERCHANT_SIM_SYNC_KEY ? 'enabled' : 'disabled (set MERCHANT_SIM_SYNC_KEY and MERCHANT_SIM_APP_PRIVATE_KEY_FILE)'}`);

  const shutdown = (signal: NodeJS.Signals): void => {
    console.log(`merchant-sim: ${signal} received, closing`);
    sim.close().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        console.error('merchant-sim: close failed', err);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
