// Every relative link in the README and docs/, and every docs/… file a script's comments point to, exists.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const markdown = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const scripts = readdirSync(join(ROOT, 'scripts')).filter((f) => f.endsWith('.sh')).map((f) => `scripts/${f}`);

describe('documentation links', () => {
  it.each(markdown)('%s links only to files that exist', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] as string).filter((t) => !/^[a-z]+:/.test(t));
    expect(targets.filter((t) => !existsSync(join(ROOT, dirname(file), t)))).toEqual([]);
  });

  it.each(scripts)('%s points to notes that exist', (file) => {
    const named = [...readFileSync(join(ROOT, file), 'utf8').matchAll(/\b(docs\/[\w./-]+\.md)\b/g)].map((m) => m[1] as string);
    expect(named.filter((n) => !existsSync(join(ROOT, n)))).toEqual([]);
    if (file === 'scripts/ceph-s3.sh') expect(named).toContain('docs/real-s3.md');
  });
});
