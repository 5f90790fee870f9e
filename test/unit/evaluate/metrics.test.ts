import { describe, expect, it } from 'vitest';
import { classificationMetrics, nestMetrics, percentile, regressionMetrics, rocAuc } from '../../../src/evaluate/metrics.ts';

describe('classification metrics', () => {
  // 6 rows, binary. Predicted class 1 when p1 > 0.5.
  const truth = [1, 0, 1, 1, 0, 0];
  const p1 = [0.9, 0.6, 0.4, 0.8, 0.2, 0.1];
  const probabilities = p1.flatMap((p) => [1 - p, p]);

  it('matches a hand computation', () => {
    const m = classificationMetrics(truth, probabilities, 2);
    // predicted: 1 1 0 1 0 0 → TP=2 FP=1 FN=1 TN=2
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.f1_macro).toBeCloseTo(2 / 3, 12);
    // positives' scores 0.9 0.4 0.8 vs negatives 0.6 0.2 0.1: 8 of 9 pairs ordered.
    expect(m.roc_auc).toBeCloseTo(8 / 9, 12);
    const ll = -(Math.log(0.9) + Math.log(0.4) + Math.log(0.4) + Math.log(0.8) + Math.log(0.8) + Math.log(0.9)) / 6;
    expect(m.log_loss).toBeCloseTo(ll, 12);
    expect([m['confusion_matrix.0.0'], m['confusion_matrix.0.1'], m['confusion_matrix.1.0'], m['confusion_matrix.1.1']]).toEqual([2, 1, 1, 2]);
  });

  it('averages one-vs-rest AUC and per-class F1 for multiclass, 0 for classes never predicted', () => {
    const t = [0, 1, 2, 2];
    const p = [0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.6, 0.3, 0.3, 0.3, 0.4];
    const m = classificationMetrics(t, p, 3);
    // predicted 0 1 1 2: class 0 f1=1, class 1 p=.5 r=1 f1=2/3, class 2 p=1 r=.5 f1=2/3.
    expect(m.accuracy).toBeCloseTo(0.75, 12);
    expect(m.f1).toBeCloseTo((1 + 2 / 3 + 2 / 3) / 3, 12);
    expect(m.precision_macro).toBeCloseTo((1 + 0.5 + 1) / 3, 12);
    expect(m['confusion_matrix.2.1']).toBe(1);
    expect(m.roc_auc).toBeGreaterThan(0.5);
  });

  it('gives tied scores half credit in ROC AUC and leaves it out when a class is absent', () => {
    expect(rocAuc([true, false], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([true, true], [0.1, 0.9])).toBeUndefined();
    expect(classificationMetrics([1, 1], [0.2, 0.8, 0.3, 0.7], 2).roc_auc).toBeUndefined();
  });
});

describe('regression metrics', () => {
  it('matches a hand computation, and leaves R² out for a constant target', () => {
    const m = regressionMetrics([1, 2, 3, 4], [1.5, 2, 2.5, 5]);
    expect(m.rmse).toBeCloseTo(Math.sqrt((0.25 + 0 + 0.25 + 1) / 4), 12);
    expect(m.mae).toBeCloseTo(0.5, 12);
    expect(m.r2).toBeCloseTo(1 - 1.5 / 5, 12);
    expect(regressionMetrics([2, 2], [1, 3]).r2).toBeUndefined();
  });
});

describe('helpers', () => {
  it('takes nearest-rank percentiles and nests dotted keys', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99), percentile([7], 99)]).toEqual([50, 95, 99, 7]);
    expect(nestMetrics({ accuracy: 1, 'latency.p99_ms': 2, 'confusion_matrix.0.1': 3 })).toEqual({ accuracy: 1, latency: { p99_ms: 2 }, confusion_matrix: { '0': { '1': 3 } } });
  });
});
