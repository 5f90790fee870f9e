// mlops data vs rclone and aws-cli on the same radosgw, same data, same run (`npm run bench -- data`).
// (A) one big file, (B) many small files. Sizes: BENCH_DATA_BIG_MIB (1024), BENCH_DATA_FILES (20000),
// BENCH_DATA_JOBS (16). Needs radosgw/ceph-mon/ceph-osd, rclone and /usr/bin/aws (Debian packages).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const mlopsBin = join(repo, 'bin/mlops.js');
const BIG_MIB = Number(process.env.BENCH_DATA_BIG_MIB ?? 1024);
const FILES = Number(process.env.BENCH_DATA_FILES ?? 20000);
const JOBS = Number(process.env.BENCH_DATA_JOBS ?? 16);

interface Timing {
  wall: number;
  cpu: number;
  /** CPU seconds the S3 server (radosgw, OSD, monitor) spent meanwhile. */
  server: number;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds used so far by the Ceph daemons (their pid files are in the cluster's run folder). */
function serverCpu(): number {
  let ticks = 0;
  for (const name of readdirSync(join(cephDir, 'run')).filter((f) => f.endsWith('.pid'))) {
    const pid = readFileSync(join(cephDir, 'run', name), 'utf8').trim();
    try {
      // Fields after "(comm) ": state is the 3rd field of the line, utime the 14th, stime the 15th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // a daemon that is gone used nothing more
    }
  }
  return ticks / CLK_TCK;
}

/**
 * Flushes dirty pages first, so that no run pays for the writeback of the one before it (the order of the
 * tools would otherwise decide who is slower: seen here, 2-3 s of system time on a 1 GiB pull).
 */
function settle(): void {
  spawnSync('sync');
}

/** Runs a command to completion; wall time from here, CPU (user+sys, all threads) from /usr/bin/time. */
function timed(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Timing> {
  const timeFile = join(work, `time-${randomBytes(4).toString('hex')}`);
  settle();
  const started = process.hrtime.bigint();
  const server0 = serverCpu();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, cmd, ...args], {
      cwd: options.cwd ?? work,
      env: options.env ?? process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
      resolve({ wall, cpu: (user ?? 0) + (sys ?? 0), server: serverCpu() - server0 });
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'bench-data-'));
const cephDir = join(work, 'ceph');
const env: Record<string, string> = {};

function startCeph(): void {
  const out = spawnSync(join(repo, 'scripts/ceph-s3.sh'), ['start', cephDir], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`ceph-s3.sh start failed: ${out.stderr}`);
  for (const line of out.stdout.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1] as string] = m[2] as string;
  }
}

function writeRandomFile(path: string, bytes: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  const chunk = 8 << 20;
  for (let left = bytes; left > 0; left -= chunk) writeSync(fd, randomBytes(Math.min(chunk, left)));
  closeSync(fd);
}

function makeWorkspace(name: string): string {
  const dir = join(work, name);
  mkdirSync(join(dir, '.git'), { recursive: true });
  return dir;
}

const s3Env = () => ({ ...process.env, ...env, AWS_EC2_METADATA_DISABLED: 'true' });
const awsEnv = () => s3Env();
const rcloneEnv = () => {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Ceph',
    RCLONE_CONFIG_BENCH_ENDPOINT: env.MLOPS_S3_ENDPOINT,
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
  };
  delete e.AWS_CA_BUNDLE; // rclone 1.60 fails with Debian's bundle path set
  return e;
};

const aws = (args: string[]) => timed('/usr/bin/aws', ['--endpoint-url', env.MLOPS_S3_ENDPOINT as string, ...args], { env: awsEnv() });
const rclone = (args: string[]) => timed('rclone', [...args, '--transfers', '16', '--checkers', '16'], { env: rcloneEnv() });
const mlops = (cwd: string, args: string[]) => timed(process.execPath, [mlopsBin, 'data', ...args], { cwd, env: s3Env() });

async function makeBucket(name: string): Promise<string> {
  await aws(['s3', 'mb', `s3://${name}`]);
  return name;
}

function benchClient(): S3Client {
  return new S3Client({
    endpoint: env.MLOPS_S3_ENDPOINT,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID as string, secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

/** Times `count` calls of `one(client, i)` at the bench's concurrency on a fresh SDK client. */
async function sdkLoop(count: number, one: (client: S3Client, i: number) => Promise<unknown>): Promise<Timing> {
  const client = benchClient();
  const limit = pLimit(JOBS);
  settle();
  const cpu0 = process.cpuUsage();
  const server0 = serverCpu();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: count }, (_, i) => limit(() => one(client, i))));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  client.destroy();
  return { wall, cpu: (cpu.user + cpu.system) / 1e6, server: serverCpu() - server0 };
}

/** The server's own ceiling for small PUTs: a bare SDK loop at the same concurrency, no hashing, no HEAD. */
const sdkPutLoop = (files: { path: string }[], bucket: string) =>
  sdkLoop(files.length, (client, i) => client.send(new PutObjectCommand({ Bucket: bucket, Key: `loop/${i}`, Body: readFileSync(files[i]!.path) })));

/** The server's ceiling for small GETs: a bare SDK loop over the objects sdkPutLoop wrote, each body written to a file. */
const sdkGetLoop = (count: number, bucket: string, dir: string) => {
  mkdirSync(dir, { recursive: true });
  return sdkLoop(count, async (client, i) => {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `loop/${i}` }));
    writeFileSync(join(dir, String(i)), await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  });
};

type Row = [string, ...string[]];
const CORES = availableParallelism();
const serverCol = (ours: Timing, peer?: Timing) => `${ours.server.toFixed(1)}${peer ? ` | ${peer.server.toFixed(1)}` : ''}`;
/**
 * The server shares the machine: the CPU it spent serving our run, spread over every core, is a time no
 * client could beat here. When it is above half of rclone's time, 2x rclone cannot be reached on this machine.
 */
const floorRow = (what: string, ours: Timing, peer: Timing): Row => [
  `${what}: server CPU / ${CORES} cores (floor)`,
  (ours.server / CORES).toFixed(2),
  (peer.server / CORES).toFixed(2),
  '',
  `2x rclone = ${(peer.wall / 2).toFixed(2)} s`,
  '',
  '',
];
const rows: Row[] = [];
const fmt = (t: Timing | undefined) => (t ? t.wall.toFixed(2) : '-');
const ratio = (peer: Timing | undefined, ours: Timing | undefined) => (peer && ours ? `${(peer.wall / ours.wall).toFixed(2)}x` : '-');

async function dataset(label: string, build: (dir: string) => { path: string }[], totalBytes: number): Promise<void> {
  const tag = label.toLowerCase().replace(/[^a-z0-9]+/g, '');
  const ws = makeWorkspace(`ws-${tag}`);
  const files = build(join(ws, 'data'));
  const mib = totalBytes / 1048576;
  process.stderr.write(`${label}: ${files.length} files, ${mib.toFixed(0)} MiB\n`);

  // Hashing: md5sum (one core) vs mlops status without a state cache (hashing only) and add (hash + copy into cache).
  const md5sum = await timed('sh', ['-c', 'find data -type f -print0 | xargs -0 md5sum > /dev/null'], { cwd: ws });
  const add = await mlops(ws, ['add', 'data']);
  rmSync(join(ws, '.dvc/tmp'), { recursive: true, force: true });
  const hash = await mlops(ws, ['status', 'data']);
  rows.push([`${label} hash (status, no state)`, fmt(hash), `md5sum ${fmt(md5sum)}`, '', ratio(md5sum, hash), `${(hash.cpu / hash.wall).toFixed(2)} cores`]);
  rows.push([`${label} add (hash + cache copy)`, fmt(add), '', '', ratio(md5sum, add), `${(add.cpu / add.wall).toFixed(2)} cores`]);

  const [bm, br, ba] = await Promise.all([makeBucket(`mlops-${tag}`), makeBucket(`rclone-${tag}`), makeBucket(`aws-${tag}`)]);
  const remote = ['--remote', `s3://${bm}/dvc`, '--endpoint', env.MLOPS_S3_ENDPOINT as string, '--jobs', String(JOBS)];
  const push = await mlops(ws, ['push', ...remote]);
  const rPush = await rclone(['copy', join(ws, 'data'), `bench:${br}/data`]);
  const aPush = await aws(['s3', 'sync', join(ws, 'data'), `s3://${ba}/data`]);
  let loop: Timing | undefined;
  if (files.length > 1) loop = await sdkPutLoop(files, bm);
  rows.push([`${label} push`, fmt(push), fmt(rPush), fmt(aPush), ratio(rPush, push), ratio(aPush, push), serverCol(push, rPush)]);
  rows.push(floorRow(`${label} push`, push, rPush));
  rows.push([`${label} push MiB/s, objects/s`, `${(mib / push.wall).toFixed(1)}, ${(files.length / push.wall).toFixed(0)}`, `${(mib / rPush.wall).toFixed(1)}`, `${(mib / aPush.wall).toFixed(1)}`, '', '']);
  if (loop) rows.push([`${label} server ceiling: bare SDK PUT loop x${JOBS}`, fmt(loop), '', '', `mlops at ${((loop.wall / push.wall) * 100).toFixed(0)}% of it`, '', serverCol(loop)]);

  const status = await mlops(ws, ['status', ...remote]);
  const rNoop = await rclone(['copy', join(ws, 'data'), `bench:${br}/data`]);
  const aNoop = await aws(['s3', 'sync', join(ws, 'data'), `s3://${ba}/data`]);
  rows.push([`${label} no-op (status / re-copy / re-sync)`, fmt(status), fmt(rNoop), fmt(aNoop), ratio(rNoop, status), ratio(aNoop, status), serverCol(status, rNoop)]);

  const clone = makeWorkspace(`clone-${tag}`);
  spawnSync('cp', [join(ws, 'data.dvc'), join(clone, 'data.dvc')]);
  const pull = await mlops(clone, ['pull', ...remote]);
  const rPull = await rclone(['copy', `bench:${br}/data`, join(work, `rclone-pull-${tag}`)]);
  const aPull = await aws(['s3', 'sync', `s3://${ba}/data`, join(work, `aws-pull-${tag}`)]);
  rows.push([`${label} pull`, fmt(pull), fmt(rPull), fmt(aPull), ratio(rPull, pull), ratio(aPull, pull), serverCol(pull, rPull)]);
  rows.push(floorRow(`${label} pull`, pull, rPull));
  if (loop) {
    const getLoop = await sdkGetLoop(files.length, bm, join(work, `get-loop-${tag}`));
    rows.push([`${label} server ceiling: bare SDK GET loop x${JOBS}`, fmt(getLoop), '', '', `mlops at ${((getLoop.wall / pull.wall) * 100).toFixed(0)}% of it`, '', serverCol(getLoop)]);
  }
  const same = spawnSync('diff', ['-r', '-q', join(ws, 'data'), join(clone, 'data')]);
  if (same.status !== 0) throw new Error(`pulled data differs: ${same.stdout}`);

  // Free the memstore before the next data set.
  for (const b of [bm, br, ba]) await aws(['s3', 'rb', `s3://${b}`, '--force']);
  for (const d of [ws, clone, join(work, `rclone-pull-${tag}`), join(work, `aws-pull-${tag}`), join(work, `get-loop-${tag}`)]) rmSync(d, { recursive: true, force: true });
}

function bigFile(dir: string): { path: string }[] {
  const path = join(dir, 'big.bin');
  writeRandomFile(path, BIG_MIB << 20);
  return [{ path }];
}

let smallBytes = 0;
function smallFiles(dir: string): { path: string }[] {
  const files: { path: string }[] = [];
  for (let i = 0; i < FILES; i++) {
    const path = join(dir, `d${String(i % 100).padStart(2, '0')}`, `f${i}.bin`);
    if (i < 100) mkdirSync(dirname(path), { recursive: true });
    const size = 1024 + Math.floor(Math.random() * 19 * 1024);
    smallBytes += size;
    const fd = openSync(path, 'w');
    writeSync(fd, randomBytes(size));
    closeSync(fd);
    files.push({ path });
  }
  return files;
}

startCeph();
try {
  await dataset(`A (1 x ${BIG_MIB} MiB)`, bigFile, BIG_MIB << 20);
  await dataset(`B (${FILES} x 1-20 KiB)`, smallFiles, FILES * 10.5 * 1024);
  const header: Row = ['operation', 'mlops s', 'rclone s', 'aws s', 'rclone/mlops', 'aws/mlops', 'server CPU s (mlops | rclone)'];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => (r[i] ?? '').length)));
  const line = (r: Row) => r.map((c, i) => (c ?? '').padEnd(widths[i] as number)).join('  ');
  process.stdout.write(`radosgw (memstore) on loopback, jobs ${JOBS}; ratios > 1 mean mlops is faster\n`);
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
  void smallBytes;
} finally {
  spawnSync(join(repo, 'scripts/ceph-s3.sh'), ['stop', cephDir]);
  rmSync(work, { recursive: true, force: true });
}
