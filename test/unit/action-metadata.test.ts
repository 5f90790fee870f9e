import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { renderActionDocs, updateReadme } from '../../scripts/action-docs.ts';

const root = join(import.meta.dirname, '..', '..');
const actionsDir = join(root, 'actions');
const actions = readdirSync(actionsDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(actionsDir, d.name, 'action.yml')))
  .map((d) => d.name)
  .sort();

const kebab = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'must be kebab-case, like fail-on-regression');

/** GitHub's action metadata for a JavaScript action (docs: "Metadata syntax for GitHub Actions"), as we use it. */
const ActionMetadata = z.strictObject({
  name: z.string().min(1),
  description: z.string().min(1),
  author: z.string().optional(),
  inputs: z
    .record(
      kebab,
      z.strictObject({
        description: z.string().min(1),
        required: z.boolean().optional(),
        // A string, so YAML never turns `true` or `1.10` into another type.
        default: z.string().optional(),
        deprecationMessage: z.string().optional(),
      }),
    )
    .optional(),
  outputs: z.record(kebab, z.strictObject({ description: z.string().min(1) })).optional(),
  runs: z.strictObject({
    using: z.literal('node24'),
    main: z.literal('dist/index.js'),
    pre: z.string().optional(),
    'pre-if': z.string().optional(),
    post: z.string().optional(),
    'post-if': z.string().optional(),
  }),
  branding: z
    .strictObject({
      icon: z.string().min(1),
      color: z.enum(['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark']),
    })
    .optional(),
});

describe('actions metadata', () => {
  it('finds the actions (the scan works)', () => {
    expect(actions).toContain('gate');
  });

  it.each(actions)('actions/%s/action.yml is valid GitHub action metadata with kebab-case names', (name) => {
    const text = readFileSync(join(actionsDir, name, 'action.yml'), 'utf8');
    const doc = parseDocument(text, { uniqueKeys: true });
    expect(doc.errors.map((e) => e.message)).toEqual([]);
    const parsed = ActionMetadata.safeParse(doc.toJS());
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
  });

  it.each(actions)('actions/%s/main.ts reads only inputs that action.yml declares', (name) => {
    const main = join(actionsDir, name, 'main.ts');
    if (!existsSync(main)) return;
    const declared = Object.keys((parseDocument(readFileSync(join(actionsDir, name, 'action.yml'), 'utf8')).toJS() as { inputs?: object }).inputs ?? {});
    const read = [...readFileSync(main, 'utf8').matchAll(/(?:Input|getInput|getBooleanInput|getMultilineInput)\(\s*'([^']+)'/g)].map((m) => m[1]!);
    expect(read.filter((n) => !declared.includes(n))).toEqual([]);
  });

  it.each(actions)('actions/%s/README.md has a current inputs/outputs table (npm run docs)', (name) => {
    const readmePath = join(actionsDir, name, 'README.md');
    expect(existsSync(readmePath), `actions/${name}/README.md is missing`).toBe(true);
    const readme = readFileSync(readmePath, 'utf8');
    expect(updateReadme(readme, readFileSync(join(actionsDir, name, 'action.yml'), 'utf8')) === readme, `actions/${name}/README.md is stale: run npm run docs`).toBe(true);
  });
});

describe('action docs generator', () => {
  const yml = `name: x
description: y
inputs:
  a-b: { description: "pipes | and\\nnewlines", required: true }
  c: { description: d, default: "\${{ github.token }}", deprecationMessage: use a-b }
outputs:
  out: { description: result }
runs: { using: node24, main: dist/index.js }
`;

  it('renders inputs and outputs tables, escaping pipes and line breaks', () => {
    expect(renderActionDocs(yml)).toBe(
      [
        '### Inputs',
        '',
        '| Name | Description | Required | Default |',
        '| --- | --- | --- | --- |',
        '| `a-b` | pipes \\| and newlines | yes |  |',
        '| `c` | d **Deprecated:** use a-b | no | `${{ github.token }}` |',
        '',
        '### Outputs',
        '',
        '| Name | Description |',
        '| --- | --- |',
        '| `out` | result |',
      ].join('\n'),
    );
  });

  it('replaces only the text between the markers, and appends them when missing', () => {
    const readme = '# x\n\nintro\n\n<!-- action-docs:start -->\nold\n<!-- action-docs:end -->\n\nfooter\n';
    const next = updateReadme(readme, yml);
    expect(next.startsWith('# x\n\nintro\n\n<!-- action-docs:start -->\n### Inputs')).toBe(true);
    expect(next.endsWith('<!-- action-docs:end -->\n\nfooter\n')).toBe(true);
    expect(updateReadme(next, yml)).toBe(next);
    expect(updateReadme('# x\n', yml)).toMatch(/^# x\n\n## Inputs and outputs\n\n<!-- action-docs:start -->\n[\s\S]*<!-- action-docs:end -->\n$/);
  });
});
