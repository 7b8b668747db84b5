/**
 * The short form of the chaos run in `npm test`: 60 orders, a few SIGKILLs of the API and of
 * the worker, one PostgreSQL restart, a merchant failing 30 % of creates (test/chaos/run.ts).
 * It runs as its own program (test/chaos/main.ts, as `npm run chaos` does): it starts its own
 * PostgreSQL and Temporal dev server, apart from the other projects' servers, and the
 * embedded PostgreSQL, an ES module, cannot be loaded inside jest's module system anyway.
 * Prints the counts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
let child: ChildProcess | undefined;

afterAll(() => {
  // A run cut off by the test timeout stops what it started (main.ts handles SIGTERM).
  if (child && child.exitCode === null) child.kill('SIGTERM');
});

test('when the API and the worker are killed again and again and PostgreSQL restarts, then every order is active once, with the merchant\'s instance and one callback', async () => {
  const run = spawn(process.execPath, ['--import', 'tsx', 'test/chaos/main.ts'], { cwd: ROOT, env: { ...process.env, CHAOS_FORM: 'short' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child = run;
  let output = '';
  run.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  run.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exitCode = await new Promise<number | string>((resolve) => run.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  console.log(output);

  expect({ exitCode, failures: output.split('\n').filter((line) => line.includes('✕')) }).toEqual({ exitCode: 0, failures: [] });
}, 175_000);
