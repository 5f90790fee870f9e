/** Task metrics over plain arrays; every function returns finite numbers or leaves the metric out. */

export type Metrics = Record<string, number>;

/** Index of the largest of `k` values starting at `offset` (first one on ties, like numpy's argmax). */
function argmax(p: ArrayLike<number>, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if ((p[offset + j] as number) > (p[offset + best] as number)) best = j;
  return best;
}

export function predictedClasses(probabilities: ArrayLike<number>, rows: number, classes: number): Int32Array {
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) out[i] = argmax(probabilities, i * classes, classes);
  return out;
}

/** Confusion matrix: counts[true][predicted]. */
export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) (m[truth[i] as number] as number[])[predicted[i] as number]! += 1;
  return m;
}

/**
 * ROC AUC of scores for the positive class: the Mann–Whitney statistic with average ranks for ties
 * (equal to the trapezoidal area under the ROC curve). Undefined (undefined) when one class is absent.
 */
export function rocAuc(positive: ArrayLike<boolean>, scores: ArrayLike<number>): number | undefined {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (positive[order[k]!]) {
        rankSum += rank;
        positives++;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return undefined;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const EPS = 1e-15;

/** Mean negative log-likelihood of the true class, probabilities clipped to [1e-15, 1 - 1e-15]. */
export function logLoss(truth: ArrayLike<number>, probabilities: ArrayLike<number>, classes: number): number {
  let sum = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = probabilities[i * classes + (truth[i] as number)] as number;
    sum -= Math.log(Math.min(1 - EPS, Math.max(EPS, p)));
  }
  return sum / truth.length;
}

function perClass(matrix: number[][], c: number): { precision: number; recall: number; f1: number } {
  const tp = matrix[c]![c]!;
  const predicted = matrix.reduce((s, row) => s + row[c]!, 0);
  const actual = matrix[c]!.reduce((s, v) => s + v, 0);
  const precision = predicted === 0 ? 0 : tp / predicted;
  const recall = actual === 0 ? 0 : tp / actual;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/**
 * Classification metrics. `truth` holds class indices 0..classes-1; `probabilities` is row-major [rows, classes].
 * Macro averages run over the classes that occur in truth or predictions (as scikit-learn does), with 0 for
 * an undefined precision or recall. Binary `precision`/`recall`/`f1` are those of class 1; multiclass ones are macro.
 * The confusion matrix is written as nested counts `confusion_matrix.<true>.<predicted>`.
 */
export function classificationMetrics(truth: ArrayLike<number>, probabilities: ArrayLike<number>, classes: number): Metrics {
  const rows = truth.length;
  const predicted = predictedClasses(probabilities, rows, classes);
  const matrix = confusionMatrix(truth, predicted, classes);
  let correct = 0;
  for (let c = 0; c < classes; c++) correct += matrix[c]![c]!;
  const present = [...Array(classes).keys()].filter((c) => matrix[c]!.some((v) => v > 0) || matrix.some((row) => row[c]! > 0));
  const stats = present.map((c) => perClass(matrix, c));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const macro = { precision: mean(stats.map((s) => s.precision)), recall: mean(stats.map((s) => s.recall)), f1: mean(stats.map((s) => s.f1)) };
  const headline = classes === 2 ? perClass(matrix, 1) : macro;
  const metrics: Metrics = {
    accuracy: correct / rows,
    precision: headline.precision,
    recall: headline.recall,
    f1: headline.f1,
    precision_macro: macro.precision,
    recall_macro: macro.recall,
    f1_macro: macro.f1,
    log_loss: logLoss(truth, probabilities, classes),
  };
  // One-vs-rest AUC per class that has both positives and negatives, macro-averaged (binary: class 1 only).
  const aucClasses = classes === 2 ? [1] : [...Array(classes).keys()];
  const aucs: number[] = [];
  for (const c of aucClasses) {
    const positive = Array.from(truth, (t) => t === c);
    const scores = Array.from({ length: rows }, (_, i) => probabilities[i * classes + c] as number);
    const auc = rocAuc(positive, scores);
    if (auc !== undefined) aucs.push(auc);
  }
  if (aucs.length === aucClasses.length) metrics.roc_auc = mean(aucs);
  for (let t = 0; t < classes; t++) for (let p = 0; p < classes; p++) metrics[`confusion_matrix.${t}.${p}`] = matrix[t]![p]!;
  return metrics;
}

export function regressionMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>): Metrics {
  const n = truth.length;
  let se = 0;
  let ae = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += truth[i] as number;
  mean /= n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = (truth[i] as number) - (predicted[i] as number);
    se += d * d;
    ae += Math.abs(d);
    total += ((truth[i] as number) - mean) ** 2;
  }
  const metrics: Metrics = { rmse: Math.sqrt(se / n), mae: ae / n };
  // R² is undefined for a constant target; leave it out rather than write NaN.
  if (total > 0) metrics.r2 = 1 - se / total;
  return metrics;
}

/** Nearest-rank percentile of already sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no values');
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

/** Nests flat `a.b.c` keys into objects for the metrics file (DESIGN §4.1 flattens them back). */
export function nestMetrics(flat: Metrics): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let at = out;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts.at(-1)!] = value;
  }
  return out;
}
