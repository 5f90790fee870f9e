import { describe, expect, it } from 'vitest';
import { usageMessage } from '../../helpers/usage-error.ts';
import { parseCommand, splitWords } from '../../../src/train/command-line.ts';
import { parseDuration, trainSettings } from '../../../src/train/settings.ts';

describe('command parsing', () => {
  it('splits one line into words like a shell, honouring quotes and escapes, without running one', () => {
    expect(splitWords(`python3 train.py --name "my model" --note 'it''s' a\\ b "q\\"x"`)).toEqual([
      'python3', 'train.py', '--name', 'my model', '--note', 'its', 'a b', 'q"x',
    ]);
    expect(splitWords(`echo '$HOME' "a|b"`)).toEqual(['echo', '$HOME', 'a|b']);
    expect(splitWords(`x ""`)).toEqual(['x', '']);
  });

  it('takes a YAML list item by item', () => {
    expect(parseCommand('[python3, train.py, --epochs, 3]', false)).toEqual(['python3', 'train.py', '--epochs', '3']);
    expect(parseCommand('- node\n- scripts/train.ts\n- --c\n- "0.5"', false)).toEqual(['node', 'scripts/train.ts', '--c', '0.5']);
  });

  it('refuses shell syntax unless shell: true is asked for, and then runs it with bash', () => {
    expect(usageMessage(() => parseCommand('python train.py | tee log', false))).toMatch(/^command: .*"\|".*shell: true/);
    expect(usageMessage(() => parseCommand('echo $HOME', false))).toContain('"$"');
    expect(usageMessage(() => parseCommand('echo > out', false))).toContain('">"');
    expect(parseCommand('python train.py | tee log', true)).toEqual(['bash', '-eo', 'pipefail', '-c', 'python train.py | tee log']);
  });

  it('names the input for empty commands, unterminated quotes and bad YAML lists', () => {
    expect(usageMessage(() => parseCommand('  ', false))).toMatch(/^command: .*empty/);
    expect(usageMessage(() => parseCommand(`echo "oops`, false))).toMatch(/^command: .*unterminated "/);
    expect(usageMessage(() => parseCommand(`echo 'oops`, false))).toMatch(/unterminated '/);
    expect(usageMessage(() => parseCommand('[a, {b: 1}]', false))).toMatch(/^command: .*YAML list/);
  });
});

describe('train settings', () => {
  it('defaults the leg to the matrix values and reads GitHub defaults', () => {
    const s = trainSettings({ command: 'python3 train.py', matrix: '{"runtime":"python","version":"3.12"}' }, '/w', { GITHUB_REPOSITORY: 'acme/churn' }, true);
    expect(s.leg).toBe('python-3.12');
    expect(s.model).toBe('churn');
    expect(s.seed).toBe(42);
    expect(s.timeoutMs).toBe(3_600_000);
    expect(s.workingDirectory).toBe('/w');
  });

  it('parses durations with units, a bare number being minutes', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1.5')).toBe(90_000);
    expect(usageMessage(() => parseDuration('soon'))).toMatch(/^timeout: "soon"/);
    expect(usageMessage(() => parseDuration('0'))).toMatch(/^timeout:/);
  });

  it('names bad seed and matrix inputs', () => {
    expect(usageMessage(() => trainSettings({ command: 'x', seed: '-1' }, '/w', {}, false))).toMatch(/^seed: "-1"/);
    expect(usageMessage(() => trainSettings({ command: 'x', matrix: 'python' }, '/w', {}, false))).toMatch(/^matrix: .*toJSON\(matrix\)/);
  });
});
