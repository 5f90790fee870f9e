import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { actionNames, buildAll } from '../../scripts/build.ts';

describe('action bundles', () => {
  it('bundles every folder that has an action.yml', () => {
    const withMetadata = readdirSync('actions').filter((name) => existsSync(`actions/${name}/action.yml`)).sort();
    expect(actionNames()).toEqual(withMetadata);
  });

  it('committed dist/index.js equals a fresh build (run `npm run build` and commit)', async () => {
    expect(await buildAll({ check: true })).toEqual([]);
  });
});
