import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDvcConfig, remoteFromConfig } from '../../../src/data/config.ts';
import { readDvcFile, writeDvcFile } from '../../../src/data/dvc-file.ts';
import { ignoreInGit } from '../../../src/data/gitignore.ts';
import { mkdirSync } from 'node:fs';
import { tempDir } from '../../helpers/tmp.ts';

const dir = () => tempDir('dvcfile');

describe('.dvc pointer files', () => {
  it('writes DVC 3 keys in order for a directory and for a file', async () => {
    const d = dir();
    await writeDvcFile(join(d, 'data.dvc'), { md5: '5ea40360f5b4ec688df672a4db9c17d1.dir', size: 6, nfiles: 2, path: 'data' });
    expect(readFileSync(join(d, 'data.dvc'), 'utf8')).toBe(
      'outs:\n- md5: 5ea40360f5b4ec688df672a4db9c17d1.dir\n  size: 6\n  nfiles: 2\n  hash: md5\n  path: data\n',
    );
    await writeDvcFile(join(d, 'model.bin.dvc'), { md5: 'acbd18db4cc2f85cedef654fccc4a4d8', size: 3, path: 'model.bin' });
    expect(readFileSync(join(d, 'model.bin.dvc'), 'utf8')).toBe(
      'outs:\n- md5: acbd18db4cc2f85cedef654fccc4a4d8\n  size: 3\n  hash: md5\n  path: model.bin\n',
    );
  });

  it('re-adding keeps comments, extra keys and their order', async () => {
    const d = dir();
    const file = join(d, 'data.dvc');
    writeFileSync(
      file,
      '# training data, refreshed weekly\nouts:\n- md5: 5ea40360f5b4ec688df672a4db9c17d1.dir  # old\n  size: 6\n  nfiles: 2\n  hash: md5\n  path: data\n  desc: churn table\nmeta:\n  owner: team-a\n',
    );
    const { doc } = await readDvcFile(file);
    await writeDvcFile(file, { md5: '0123456789abcdef0123456789abcdef.dir', size: 9, nfiles: 3, path: 'data' }, doc);
    expect(readFileSync(file, 'utf8')).toBe(
      '# training data, refreshed weekly\nouts:\n- md5: 0123456789abcdef0123456789abcdef.dir # old\n  size: 9\n  nfiles: 3\n  hash: md5\n  path: data\n  desc: churn table\nmeta:\n  owner: team-a\n',
    );
  });

  it('rejects a .dvc file with a bad md5, naming file and field', async () => {
    const d = dir();
    const file = join(d, 'x.dvc');
    writeFileSync(file, 'outs:\n- md5: nothex\n  path: x\n');
    await expect(readDvcFile(file)).rejects.toThrow(/x\.dvc.*outs\[0\]\.md5/);
  });
});

describe('.dvc/config', () => {
  it('parses core.remote and a quoted remote section, config.local overriding', async () => {
    const d = dir();
    mkdirSync(join(d, '.dvc'));
    writeFileSync(
      join(d, '.dvc', 'config'),
      "[core]\n    remote = storage\n    autostage = true\n['remote \"storage\"']\n    url = s3://bucket/dvc\n    endpointurl = http://127.0.0.1:7480\n['remote \"backup\"']\n    url = ../../backup\n",
    );
    writeFileSync(join(d, '.dvc', 'config.local'), "['remote \"storage\"']\n    endpointurl = http://127.0.0.1:9000\n");
    expect(await remoteFromConfig(d)).toEqual({ name: 'storage', url: 's3://bucket/dvc', endpoint: 'http://127.0.0.1:9000' });
    // Relative local remotes are relative to .dvc/, as DVC writes them.
    expect(await remoteFromConfig(d, 'backup')).toEqual({ name: 'backup', url: join(d, '..', 'backup') });
    await expect(remoteFromConfig(d, 'nope')).rejects.toThrow(/remote: "nope" is not defined in \.dvc\/config/);
  });

  it('reads comments and both quote styles', () => {
    const c = parseDvcConfig('# c\n[core]\n; x\nremote = "a"\n["remote \\"a\\""]\n');
    expect(c.get('core')?.get('remote')).toBe('a');
  });
});

describe('.gitignore', () => {
  it('adds /name once, as dvc add does', async () => {
    const d = dir();
    writeFileSync(join(d, '.gitignore'), 'node_modules');
    expect(await ignoreInGit(d, 'data')).toBe(true);
    expect(await ignoreInGit(d, 'data')).toBe(false);
    expect(readFileSync(join(d, '.gitignore'), 'utf8')).toBe('node_modules\n/data\n');
  });
});
