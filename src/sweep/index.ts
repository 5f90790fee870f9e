/** Public surface of the sweep core, for the CLI, the action and the demo. */
export { runSweep, type SweepSettings, type SweepMatrix, type SweepResult } from './sweep.ts';
export { expandSpace, RANDOM_DIGITS, type Sweep, type SweepLeg } from './expand.ts';
export { loadSpace, parseSpace, checkCount, checkSeed, wholeNumber, MAX_LEGS, type SearchSpace } from './space.ts';
export { legName, paramsHash, canonicalJson } from './leg-name.ts';
export { Pcg32, fnv1a64 } from './pcg32.ts';
