// Benchmarks on a shared machine measure the neighbours: refuse to start while another process is busy.
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface Sample {
  ticks: number;
  name: string;
}

function sample(): Map<number, Sample> {
  const out = new Map<number, Sample>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const line = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = line.lastIndexOf(')');
      const name = line.slice(line.indexOf('(') + 1, close);
      // After "(comm) ": field 3 is the state, so utime and stime (fields 14 and 15) are at 11 and 12.
      const fields = line.slice(close + 2).split(' ');
      out.set(Number(entry), { ticks: Number(fields[11]) + Number(fields[12]), name });
    } catch {
      // the process ended between readdir and read
    }
  }
  return out;
}

function ancestors(): Set<number> {
  const pids = new Set<number>([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    try {
      const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(line.slice(line.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return pids;
}

export interface BusyProcess {
  pid: number;
  name: string;
  cores: number;
}

/** Processes (other than this one and its ancestors) that used more than `threshold` cores over `ms`. */
export async function busyProcesses(ms = 1000, threshold = 0.5): Promise<BusyProcess[]> {
  const before = sample();
  await new Promise((r) => setTimeout(r, ms));
  const after = sample();
  const mine = ancestors();
  const busy: BusyProcess[] = [];
  for (const [pid, s] of after) {
    if (mine.has(pid)) continue;
    const cores = (s.ticks - (before.get(pid)?.ticks ?? s.ticks)) / CLK_TCK / (ms / 1000);
    if (cores > threshold) busy.push({ pid, name: s.name, cores });
  }
  return busy.sort((a, b) => b.cores - a.cores);
}

/**
 * Exits 2 when the machine is not quiet, naming the busy processes. `BENCH_ALLOW_BUSY=1` runs anyway and
 * says so in the output, so nobody reads shared-machine figures as clean ones.
 */
export async function requireQuietMachine(): Promise<void> {
  const busy = await busyProcesses();
  if (busy.length === 0) return;
  const list = busy.map((b) => `${b.name} (pid ${b.pid}, ${b.cores.toFixed(2)} cores)`).join(', ');
  if (process.env.BENCH_ALLOW_BUSY === '1') {
    process.stdout.write(`WARNING: the machine is busy (${list}); figures below are skewed (BENCH_ALLOW_BUSY=1)\n`);
    return;
  }
  process.stderr.write(`bench: the machine is busy: ${list}. Wait for it to be quiet, or set BENCH_ALLOW_BUSY=1 to run anyway.\n`);
  process.exit(2);
}
