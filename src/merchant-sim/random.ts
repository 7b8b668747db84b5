/**
 * A seeded source of random numbers in [0, 1), for the fault rules that carry a probability
 * (and for anything else a test wants to repeat): the same seed gives the same sequence.
 * mulberry32: 32 bits of state, fast, and good enough for dice; not for secrets.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
