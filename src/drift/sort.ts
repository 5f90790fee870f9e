const COUNTS = new Uint32Array(65536 * 4);
let spareBuffer = new Uint32Array(0);

/** A reused buffer of at least `size` words: sorting column after column allocates (and page-faults) once. */
function scratch(size: number): Uint32Array {
  if (spareBuffer.length < size) spareBuffer = new Uint32Array(Math.max(size, Math.ceil(spareBuffer.length * 1.5)));
  return spareBuffer.subarray(0, size);
}

/** Lets the scratch buffer go (after a check, so a long-lived process does not keep it). */
export function releaseSortScratch(): void {
  spareBuffer = new Uint32Array(0);
}

/**
 * Sorts finite doubles ascending in place: an LSD radix sort on the IEEE-754 bits (four 16-bit digits),
 * about 3× faster than `Float64Array.prototype.sort` at a million values and independent of their order.
 * A pass whose digit is the same for every value (common for the high digits) is skipped.
 * NaN must not be present (callers keep non-finite values out of the columns they sort).
 */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < 4096) return values.sort();
  const keys = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  const spare = scratch(n * 2);
  // Order-preserving transform (negative numbers get every bit flipped, positive ones the sign bit), and
  // the four digit histograms, in one pass.
  const counts = COUNTS.fill(0);
  for (let i = 0; i < 2 * n; i += 2) {
    let lo = keys[i]!;
    let hi = keys[i + 1]!;
    if (hi & 0x80000000) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
    } else hi = (hi | 0x80000000) >>> 0;
    keys[i] = lo;
    keys[i + 1] = hi;
    counts[lo & 0xffff]!++;
    counts[65536 + (lo >>> 16)]!++;
    counts[131072 + (hi & 0xffff)]!++;
    counts[196608 + (hi >>> 16)]!++;
  }
  let from: Uint32Array = keys;
  let to: Uint32Array = spare;
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * 65536;
    let sum = 0;
    let single = false;
    for (let d = 0; d < 65536; d++) {
      const c = counts[base + d]!;
      if (c === n) single = true;
      counts[base + d] = sum;
      sum += c;
    }
    if (single) continue;
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    for (let i = 0; i < 2 * n; i += 2) {
      const digit = (from[i + word]! >>> shift) & 0xffff;
      const j = 2 * counts[base + digit]!++;
      to[j] = from[i]!;
      to[j + 1] = from[i + 1]!;
    }
    const t = from;
    from = to;
    to = t;
  }
  for (let i = 0; i < 2 * n; i += 2) {
    const lo = from[i]!;
    const hi = from[i + 1]!;
    if (hi & 0x80000000) {
      keys[i] = lo;
      keys[i + 1] = hi & 0x7fffffff;
    } else {
      keys[i] = ~lo;
      keys[i + 1] = ~hi;
    }
  }
  // -0 sorts before +0 here, as in Float64Array.prototype.sort.
  return values;
}

