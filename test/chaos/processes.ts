/**
 * The API and the worker as the chaos run keeps them: each its own operating-system process
 * (src/dev/service-processes.ts), killed with SIGKILL and started again on the same port and
 * task queue. The last lines each printed are kept for a failure report.
 */
import { startService, type ServiceKind, type ServiceProcess } from '../../src/dev/service-processes';

const TAIL_LINES = 60;
const START_ATTEMPTS = 5;

export class SupervisedService {
  private process?: ServiceProcess;
  private readonly tail: string[] = [];
  /** When each SIGKILL was sent (epoch ms). */
  readonly killedAt: number[] = [];
  /** Starts that failed and were tried again. */
  failedStarts = 0;
  /** Milliseconds each start took, until the process said it was ready. */
  readonly startMs: number[] = [];

  constructor(
    readonly kind: ServiceKind,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Starts the process; tries again a few times when it exits or stalls before it is ready. */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const began = Date.now();
      try {
        this.process = await startService(this.kind, this.env, { onOutput: (line) => this.keep(line), readyTimeoutMs: 60_000 });
        this.startMs.push(Date.now() - began);
        return;
      } catch (error) {
        this.failedStarts += 1;
        this.keep(`[chaos] start ${attempt} failed: ${String(error)}`);
        if (attempt >= START_ATTEMPTS) throw new Error(`${this.kind} did not start after ${START_ATTEMPTS} attempts; last lines:\n${this.lastLines()}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /** SIGKILL: no shutdown hook runs, open requests and activities are cut off. */
  async kill(): Promise<void> {
    if (!this.process) return;
    this.killedAt.push(Date.now());
    this.keep(`[chaos] SIGKILL pid ${this.process.pid}`);
    await this.process.kill();
    this.process = undefined;
  }

  /** SIGTERM, as at the end of the run. */
  async stop(): Promise<void> {
    await this.process?.stop(5_000);
    this.process = undefined;
  }

  get kills(): number {
    return this.killedAt.length;
  }

  lastLines(): string {
    return this.tail.join('\n');
  }

  private keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }
}
