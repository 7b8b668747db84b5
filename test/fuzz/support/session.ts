/**
 * What a fuzz suite runs against: the app from the api harness (real PostgreSQL and Temporal
 * dev server from the global setup) listening on loopback, the fixtures, the write watch,
 * and optionally the stand-in worker. `exchange` sends one request between two snapshots of
 * the tables and checks the rules every answer keeps (oracles.ts).
 */
import { apiHarness, type ApiHarness } from '../../helpers/api-harness';
import { buildFixtures, type Fixtures } from './fixtures';
import { BrokenRule, checkAnswer, checkNothingWritten, type ErrorBody } from './oracles';
import type { Tally } from './settings';
import { startStandInWorker, type StandInWorker } from './stand-in-worker';
import { listen, refusedByHttpParser, type Wire, type WireRequest, type WireResponse } from './wire';
import { watchWrites, type Snapshot, type WriteWatch } from './writes';

export interface Exchanged {
  request: WireRequest;
  response: WireResponse;
  /** The error of a 4xx, checked against the documented shape. */
  error?: ErrorBody;
  before: Snapshot;
  after: Snapshot;
  /** Node's HTTP parser refused the request line: the app never saw it (see refusedByHttpParser). */
  parserRefused?: true;
}

export class FuzzSession {
  private harness?: ApiHarness;
  private listening?: Wire;
  private fixtures?: Fixtures;
  private watch?: WriteWatch;
  private worker?: StandInWorker;

  constructor(private readonly options: { env?: NodeJS.ProcessEnv; standInWorker?: boolean } = {}) {}

  async start(): Promise<void> {
    this.harness = await apiHarness(this.options.env ?? {});
    if (this.options.standInWorker) this.worker = await startStandInWorker(this.harness.config.temporal.taskQueue);
    this.listening = await listen(this.harness.app);
    this.fixtures = await buildFixtures(this.harness, this.listening);
    this.watch = await watchWrites(this.harness.db);
  }

  async stop(): Promise<void> {
    await this.listening?.close();
    await this.worker?.stop();
    await this.harness?.close();
  }

  get h(): ApiHarness {
    return started(this.harness);
  }

  get f(): Fixtures {
    return started(this.fixtures);
  }

  get wire(): Wire {
    return started(this.listening);
  }

  /** Sends the request between two snapshots of the tables and checks the rules every answer keeps. */
  async exchange(request: WireRequest, tally: Tally): Promise<Exchanged> {
    const watch = started(this.watch);
    const before = await watch.snapshot();
    const response = await this.wire.send(request);
    const after = await watch.snapshot();
    if (refusedByHttpParser(request)) {
      if (response.status !== 400 || response.text !== '') throw new BrokenRule("node's HTTP parser refuses a path with bytes from 0x7f up: a bare 400", request, response);
      checkNothingWritten('a refused request writes nothing', before, after, request, response);
      tally.count(response.status, 'http_parser');
      return { request, response, before, after, parserRefused: true };
    }
    if (request.method === 'HEAD') {
      // No body to check: only the status.
      if (response.status >= 500) throw new BrokenRule(`no 5xx: got ${response.status}`, request, response);
      tally.count(response.status);
      return { request, response, before, after };
    }
    const error = checkAnswer(request, response);
    tally.count(response.status, error?.code);
    return { request, response, before, after, ...(error ? { error } : {}) };
  }
}

function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the fuzz session has not started (beforeAll)');
  return value;
}
