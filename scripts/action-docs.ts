// Regenerates the inputs/outputs tables of every actions/*/README.md from its action.yml, between
// <!-- action-docs:start --> and <!-- action-docs:end -->. A README without the markers gets them appended.
// `node scripts/action-docs.ts --check` changes nothing and exits 1 if a table is missing or stale.
import { existsSync, readFileSync, readdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const START = '<!-- action-docs:start -->';
export const END = '<!-- action-docs:end -->';

interface ActionYml {
  inputs?: Record<string, { description?: string; required?: boolean; default?: unknown; deprecationMessage?: string } | null>;
  outputs?: Record<string, { description?: string } | null>;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\r?\n\s*/g, ' ').trim();
}

function codeCell(text: string): string {
  return text === '' ? '' : `\`${text.replace(/\|/g, '\\|')}\``;
}

/** The Markdown between the markers for one action.yml's text. */
export function renderActionDocs(actionYml: string): string {
  const action = (parse(actionYml) ?? {}) as ActionYml;
  const lines = ['### Inputs', ''];
  const inputs = Object.entries(action.inputs ?? {});
  if (inputs.length === 0) lines.push('None.');
  else {
    lines.push('| Name | Description | Required | Default |', '| --- | --- | --- | --- |');
    for (const [name, input] of inputs) {
      const deprecated = input?.deprecationMessage ? ` **Deprecated:** ${cell(input.deprecationMessage)}` : '';
      const fallback = input?.default === undefined ? '' : codeCell(String(input.default));
      lines.push(`| \`${name}\` | ${cell(input?.description ?? '')}${deprecated} | ${input?.required ? 'yes' : 'no'} | ${fallback} |`);
    }
  }
  lines.push('', '### Outputs', '');
  const outputs = Object.entries(action.outputs ?? {});
  if (outputs.length === 0) lines.push('None.');
  else {
    lines.push('| Name | Description |', '| --- | --- |');
    for (const [name, output] of outputs) lines.push(`| \`${name}\` | ${cell(output?.description ?? '')} |`);
  }
  return lines.join('\n');
}

/** The README with its generated block brought up to date. */
export function updateReadme(readme: string, actionYml: string): string {
  const block = `${START}\n${renderActionDocs(actionYml)}\n${END}`;
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end === -1 || end < start) return `${readme.replace(/\s*$/, '')}\n\n## Inputs and outputs\n\n${block}\n`;
  return readme.slice(0, start) + block + readme.slice(end + END.length);
}

export function actionDirs(base = root): string[] {
  const actions = join(base, 'actions');
  return readdirSync(actions, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(actions, d.name, 'action.yml')))
    .map((d) => join(actions, d.name))
    .sort();
}

/** Returns the READMEs that are (check) or were (write) out of date. */
export function run({ check = false, base = root } = {}): string[] {
  const stale: string[] = [];
  for (const dir of actionDirs(base)) {
    const readmePath = join(dir, 'README.md');
    const current = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : `# ${relative(join(base, 'actions'), dir)}\n`;
    let next: string;
    try {
      next = updateReadme(current, readFileSync(join(dir, 'action.yml'), 'utf8'));
    } catch (error) {
      process.stderr.write(`${relative(base, join(dir, 'action.yml'))}: ${(error as Error).message.split('\n')[0]}\n`);
      stale.push(relative(base, readmePath));
      continue;
    }
    if (next === current) continue;
    stale.push(relative(base, readmePath));
    if (!check) {
      writeFileSync(`${readmePath}.tmp`, next);
      renameSync(`${readmePath}.tmp`, readmePath);
    }
  }
  return stale;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  const stale = run({ check });
  if (check && stale.length > 0) {
    process.stderr.write(`Inputs/outputs tables are out of date in: ${stale.join(', ')}\nRun \`npm run docs\` and commit the result.\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(stale.length > 0 ? `updated ${stale.join(', ')}\n` : 'action docs are current\n');
  }
}
