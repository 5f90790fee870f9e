// mlops bump vs the two ways manifests get edited today, on the same file in the same run (`npm run bench -- bump`):
// (1) the yaml package's Document round trip (parse, setIn, toString), what most tools do;
// (2) a sed-style regex replace, what the seed pipelines did. Reports time per edit and lines changed.
// Size: BENCH_BUMP_DOCS (400) extra documents with comments, flow maps and quoted strings.
import { parseAllDocuments } from 'yaml';
import { bumpText } from '../src/manifests/bump.ts';

const DOCS = Number(process.env.BENCH_BUMP_DOCS ?? 400);
const ROUNDS = 20;

function corpus(): string {
  const parts = [
    `# Production model\napiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: churn  # the model\n  annotations:\n    serving.kserve.io/deploymentMode: 'Serverless'\nspec:\n  predictor:\n    canaryTrafficPercent: 10\n    model:\n      modelFormat: {name: onnx}\n      storageUri: "s3://models/models/churn/sha256-0000000000000000/"   # bumped\n`,
  ];
  for (let i = 0; i < DOCS; i++) {
    parts.push(`# config ${i}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg-${i}, labels: {app: churn}}\ndata:\n  threshold: '0.${i}'\n  list: [a, b,   c]\n  long: >-\n    folded text ${i}\n    over two lines\n\n`);
  }
  return parts.join('---\n');
}

function changedLines(a: string, b: string): number {
  const x = a.split('\n');
  const y = b.split('\n');
  let n = Math.abs(x.length - y.length);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) n++;
  return n;
}

function time(fn: () => string): { ms: number; out: string } {
  let out = fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) out = fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6 / ROUNDS, out };
}

const text = corpus();
const uri = 's3://models/models/churn/sha256-0123456789abcdef/';
const ours = time(() => bumpText(text, 'inference.yaml', { storageUri: uri }).text);
const roundTrip = time(() => {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error('not a stream');
  docs[0]?.setIn(['spec', 'predictor', 'model', 'storageUri'], uri);
  return docs.map((d) => d.toString()).join('');
});
const sed = time(() => text.replace(/storageUri: .*$/m, `storageUri: ${uri}`));

const rows = [
  ['mlops bump', ours],
  ['yaml Document round trip', roundTrip],
  ['sed-style regex', sed],
] as const;
process.stdout.write(`file: ${(text.length / 1024).toFixed(0)} KiB, ${DOCS + 1} documents; mean of ${ROUNDS} edits\n`);
process.stdout.write('tool                        ms/edit   lines changed   time ratio vs mlops\n');
for (const [name, r] of rows) {
  process.stdout.write(`${name.padEnd(26)}  ${r.ms.toFixed(1).padStart(7)}   ${String(changedLines(text, r.out)).padStart(13)}   ${(r.ms / ours.ms).toFixed(2).padStart(8)}\n`);
}
process.stdout.write('(lines changed: what a reviewer sees in the pull request; the sed edit also drops the comment on that line)\n');
