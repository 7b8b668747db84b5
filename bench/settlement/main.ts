/**
 * bench:settlement — a bill run over N order lines against a bare `GROUP BY merchant` over
 * the same rows, on the same PostgreSQL, in one run; prints both, the ratio and lines/s.
 *
 *   BENCH_LINES (default 200000)   order lines, spread over BENCH_MERCHANTS (default 1000)
 *   DATABASE_URL                   a PostgreSQL of yours on this machine (COPY reads the seed
 *                                  files server-side; a fresh database is created on it);
 *                                  otherwise an embedded one in a scratch directory
 *
 * Also part of `npm run bench` (bench/run.ts), at BENCH_LINES.
 */
import { benchSettlement } from './bench';

benchSettlement({
  lines: Number(process.env.BENCH_LINES ?? 200_000),
  merchants: Number(process.env.BENCH_MERCHANTS ?? 1000),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
