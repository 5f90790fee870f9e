// `mlops serve` as a user runs it (a child process of bin/mlops.js): the ready line, a clean stop on SIGTERM and
// SIGINT that writes the payload logs, exit 3 for a port in use or a file whose sha256 is not model.json's, exit 2
// for bad flags.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { silentLogger } from '../../../src/log.ts';
import { parsePayloadLine } from '../../../src/serve/index.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { call, churnRequest } from './client.ts';
import { churnModel, CHURN_FEATURES, type Churn } from './fixtures.ts';

const BIN = fileURLToPath(new URL('../../../bin/mlops.js', import.meta.url));
const children = new Set<ChildProcess>();
let churn: Churn;

beforeAll(async () => {
  churn = await churnModel({ rows: 200 });
});
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
  /** Resolves with the URL from the ready line, or rejects if the process exits first. */
  ready: Promise<string>;
}

function serve(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: churn.work, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /^serving \S+ \S+ at (http:\/\/\S+)$/m.exec(out) ?? /"url":"(http:[^"]+)"/.exec(out);
      if (match) resolve(match[1]!);
    });
    void exit.then((code) => reject(new Error(`exited with ${code} before the ready line: ${err}`)));
  });
  ready.catch(() => undefined);
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, stdout: () => out, stderr: () => err, exit, ready };
}

const rows = () => churn.rows.slice(0, 3).map((r) => r.slice(0, CHURN_FEATURES));

describe('mlops serve', () => {
  it('prints one ready line naming the model, version and URL, and serves there', async () => {
    const run = serve(['--storage-uri', churn.storageUri, '--port', '0']);
    const url = await run.ready;
    expect(run.stdout()).toMatch(new RegExp(`^serving churn ${churn.version} at http://127\\.0\\.0\\.1:\\d+\\n$`));
    const res = await call(url, 'POST', '/v2/models/churn/infer', churnRequest(rows()));
    expect(res.json.model_version).toBe(churn.version);
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
  });

  it('takes --name, a relative directory and --json', async () => {
    const run = serve(['--storage-uri', `store/models/churn/${churn.version}`, '--port', '0', '--name', 'churn-prod', '--json']);
    const url = await run.ready;
    expect(JSON.parse(run.stdout())).toEqual({ status: 'serving', name: 'churn-prod', version: churn.version, url, 'storage-uri': churn.storageUri });
    expect((await call(url, 'GET', '/v2/models/churn-prod/ready')).status).toBe(200);
    expect((await call(url, 'GET', '/v2/models/churn/ready')).status).toBe(404);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s stops cleanly and writes every payload record first', async (signal) => {
    const dir = tempDir('cli-payloads');
    const run = serve(['--storage-uri', churn.storageUri, '--port', '0', '--log-payloads', dir]);
    const url = await run.ready;
    // The default batch interval is 5 s: these records can only be on disk if the stop wrote them.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call(url, 'POST', '/v2/models/churn/infer', churnRequest(rows(), { id: `r${i}` }))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    run.child.kill(signal);
    expect(await run.exit).toBe(0);
    const records = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n').map((l, i) => parsePayloadLine(l, `${f}:${i + 1}`)));
    expect(records).toHaveLength(40);
    expect(new Set(records.map((r) => (r.data as { id: string }).id))).toEqual(new Set(answers.map((_, i) => `r${i}`)));
    expect(run.stderr()).toMatch(/payload log: 40 record\(s\) in 1 file\(s\)/);
  });
});

describe('mlops serve cannot start: exit 3', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('names the port when it is in use', async () => {
    const run = serve(['--storage-uri', churn.storageUri, '--port', String(port)]);
    expect(await run.exit).toBe(3);
    expect(run.stderr()).toContain(`port ${port} on 127.0.0.1 is in use`);
    expect(run.stdout()).toBe('');
  });

  it('names the file whose sha256 does not match model.json, and serves nothing', async () => {
    const copy = tempDir('tampered');
    cpSync(churn.versionDir, copy, { recursive: true });
    const model = join(copy, 'model.onnx');
    const bytes = readFileSync(model);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff; // same size, other bytes
    writeFileSync(model, bytes);
    const run = await inProcess(['--storage-uri', copy, '--port', '0']);
    expect(run.code).toBe(3);
    expect(run.err).toMatch(new RegExp(`^mlops serve: file://${copy}/model\\.onnx: has sha256 [0-9a-f]{64}, model\\.json says [0-9a-f]{64}`));
    expect(run.out).toBe('');
  });
});

/** main() in this process: for the refusals, which never reach a signal. */
async function inProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const logger = { ...silentLogger, error: (m: string) => (err += `${m}\n`) };
  const code = await main(['serve', ...args], { logger, out: (t) => (out += t), cwd: churn.work, env: process.env });
  return { code, out, err };
}

describe('mlops serve with bad flags: exit 2', () => {
  it.each([
    [[], /storage-uri: "" is required/],
    [['--storage-uri', 'nowhere'], /storage-uri: "nowhere" does not exist/],
    [['--storage-uri', 'gs://bucket/models/churn/'], /storage-uri: "gs:\/\/bucket\/models\/churn\/" uses a scheme this tool cannot read/],
    [['--storage-uri', 'store', '--port', 'http'], /port: "http" is not a port/],
    [['--storage-uri', 'store', '--port', '70000'], /port: 70000 is not a port/],
    [['--storage-uri', 'store', '--name', 'a/b'], /name: "a\/b" is not a model name for URLs/],
    [['--storage-uri', 'store', '--log-payloads', 'ftp://host/x'], /remote: "ftp:\/\/host\/x" uses a scheme this tool does not support/],
  ])('%j', async (args, message) => {
    const run = await inProcess([...args]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(message);
    expect(run.err.trim().split('\n')).toHaveLength(1);
    expect(run.out).toBe('');
  });
});
