/**
 * PCG32 (M. E. O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically Good Algorithms for
 * Random Number Generation", 2014; the reference is pcg-c-basic's `pcg32_random_r`, XSH-RR output): a
 * 64-bit LCG state (multiplier 6364136223846793005, increment `2·stream + 1`) whose old state is permuted
 * into 32 output bits by an xorshift and a data-dependent rotation. Seeding is `pcg32_srandom_r(seed, stream)`.
 *
 * Written out here rather than taken from `Math.random` (unseeded, engine-defined) so that a sweep's random
 * points are the same on every run, machine and Node version: only integer arithmetic (BigInt for the 64-bit
 * state) and IEEE-754 divisions by powers of two, all exactly specified.
 */
const MASK64 = (1n << 64n) - 1n;
const MULTIPLIER = 6364136223846793005n;

export class Pcg32 {
  private state = 0n;
  private readonly increment: bigint;

  /** `seed` and `stream` are taken modulo 2^64 (negative values are refused by callers). */
  constructor(seed: bigint, stream: bigint) {
    this.increment = ((stream << 1n) | 1n) & MASK64;
    this.nextUint32();
    this.state = (this.state + (seed & MASK64)) & MASK64;
    this.nextUint32();
  }

  nextUint32(): number {
    const old = this.state;
    this.state = (old * MULTIPLIER + this.increment) & MASK64;
    const xorshifted = Number((((old >> 18n) ^ old) >> 27n) & 0xffffffffn);
    const rotation = Number(old >> 59n);
    return ((xorshifted >>> rotation) | (xorshifted << (-rotation & 31))) >>> 0;
  }

  /** A double in [0, 1) from 53 random bits (27 of one output, 26 of the next: MT19937's genrand_res53). */
  nextDouble(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** An integer in [0, bound) without modulo bias (pcg32_boundedrand_r: reject draws below 2^32 mod bound). */
  nextBelow(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > 2 ** 32) throw new RangeError(`bound ${bound} is not a whole number from 1 to 2^32`);
    const threshold = (2 ** 32 - bound) % bound;
    for (;;) {
      const r = this.nextUint32();
      if (r >= threshold) return r % bound;
    }
  }
}

/** 64-bit FNV-1a of the UTF-8 bytes: turns a parameter's name into its own PCG stream. */
export function fnv1a64(text: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & MASK64;
  }
  return hash;
}
