// Shared data for the drift integration tests: a reference profile and KServe payload logs whose
// features can be shifted, written the way `mlops serve --log-payloads` writes them (DESIGN §4.7).
import { writeFileSync } from 'node:fs';
import { buildProfile, serializeProfile, type Profile } from '../../../src/drift/profile.ts';
import { REQUEST, RESPONSE } from '../../../src/drift/read/fast-v1.ts';
import { sampler } from '../../helpers/scipy.ts';

export const FEATURES = ['tenure_months', 'monthly_charges', 'support_calls', 'contract'];

/** 5,000 reference rows: three numeric features and a categorical one; outputs label and probabilities. */
export function referenceProfile(seed = 1): Profile {
  const s = sampler(seed);
  const n = 5000;
  const contract = Array.from({ length: n }, () => String(Math.floor(s.uniform() * 3)));
  const p1 = Array.from({ length: n }, () => 1 / (1 + Math.exp(-s.normal())));
  return buildProfile(
    n,
    [
      { name: 'tenure_months', values: Array.from({ length: n }, () => Math.round(Math.abs(s.normal()) * 20)) },
      { name: 'monthly_charges', values: s.normals(n, 60, 15) },
      { name: 'support_calls', values: Array.from({ length: n }, () => Math.floor(s.uniform() * 4)) },
      { name: 'contract', values: contract, kind: 'categorical' },
    ],
    [
      { name: 'label', values: p1.map((p) => (p > 0.5 ? '1' : '0')), kind: 'categorical' },
      { name: 'probabilities[0]', values: p1.map((p) => 1 - p) },
      { name: 'probabilities[1]', values: p1 },
    ],
    [{ name: 'input', features: FEATURES }],
  );
}

export function writeProfileFile(path: string, profile = referenceProfile()): void {
  writeFileSync(path, serializeProfile(profile));
}

export interface LogOptions {
  records: number;
  rowsPerRecord: number;
  /** Features to shift: tenure by +12 months, charges by +20, contract towards 0. */
  shift?: string[];
  seed?: number;
  start?: string;
  /** Milliseconds between records. */
  step?: number;
}

/** CloudEvents JSON lines: a v1 request and its response per record. */
export function payloadLog(options: LogOptions): string {
  const s = sampler(options.seed ?? 2);
  const shift = new Set(options.shift ?? []);
  const t0 = Date.parse(options.start ?? '2026-11-22T09:00:00Z');
  const lines: string[] = [];
  for (let r = 0; r < options.records; r++) {
    const rows: number[][] = [];
    const predictions: number[][] = [];
    for (let i = 0; i < options.rowsPerRecord; i++) {
      const tenure = Math.round(Math.abs(s.normal()) * 20) + (shift.has('tenure_months') ? 12 : 0);
      const charges = Number((60 + 15 * s.normal() + (shift.has('monthly_charges') ? 20 : 0)).toFixed(2));
      const calls = Math.floor(s.uniform() * 4);
      const contract = shift.has('contract') && s.uniform() < 0.6 ? 0 : Math.floor(s.uniform() * 3);
      rows.push([tenure, charges, calls, contract]);
      const p = Number((1 / (1 + Math.exp(-s.normal()))).toFixed(4));
      predictions.push([Number((1 - p).toFixed(4)), p]);
    }
    const time = new Date(t0 + r * (options.step ?? 1000)).toISOString();
    const base = { specversion: '1.0', id: `req-${options.seed ?? 2}-${r}`, source: 'http://churn-predictor.ml/v1/models/churn:predict', time, inferenceservicename: 'churn', namespace: 'ml', component: 'predictor', endpoint: 'default', datacontenttype: 'application/json' };
    lines.push(JSON.stringify({ ...base, type: REQUEST, data: { instances: rows } }));
    lines.push(JSON.stringify({ ...base, type: RESPONSE, data: { predictions } }));
  }
  return `${lines.join('\n')}\n`;
}
