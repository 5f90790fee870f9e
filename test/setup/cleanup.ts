import { afterAll } from 'vitest';
import { removeTempDirs } from '../helpers/tmp.ts';

// Runs in every test file's worker: what the file's tests created under the temporary folder goes with it.
afterAll(() => removeTempDirs());
