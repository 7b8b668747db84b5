/**
 * The two forms of the chaos run. The short one runs in `npm test` (jest project `chaos`) and
 * must stay well under 3 minutes on a 2-core machine; the long one is `npm run chaos`.
 * Both keep the kills going until every order is accepted, then allow 90 s or more for the
 * creates to finish: an activity lost with a killed worker is retried only after its 30 s
 * start-to-close timeout.
 */
import type { ChaosOptions } from './run';

export const SHORT_FORM: ChaosOptions = {
  orders: 60,
  seed: 1,
  sendOverMs: 40_000,
  killGapMs: [2_000, 4_000],
  downMs: [300, 1_500],
  postgresRestartAt: 0.45,
  postgresDownMs: 2_000,
  createFailureRate: 0.3,
  settleWithinMs: 90_000,
};

export const LONG_FORM: ChaosOptions = {
  ...SHORT_FORM,
  orders: 300,
  sendOverMs: 150_000,
  killGapMs: [1_500, 4_000],
  settleWithinMs: 150_000,
};
