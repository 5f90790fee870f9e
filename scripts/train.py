#!/usr/bin/python3
"""The Python leg's example training program (Debian's /usr/bin/python3 with numpy, scikit-learn, onnx).

A scikit-learn Pipeline (StandardScaler on numeric columns, OneHotEncoder on categorical codes,
LogisticRegression) exported to ONNX by hand with onnx.helper (skl2onnx is not available), node for node
the graph of src/onnx/linear-classifier.ts: one float32 input `input` [N, F] of raw features, outputs
`probabilities` float32 [N, 2] and `label` int64 [N]. Preprocessing lives inside the graph.

  /usr/bin/python3 scripts/train.py [--train data/train.csv] [--holdout data/holdout.csv] [--schema data/schema.json]
      [--model-dir model] [--metrics metrics.json] [--params params.yaml] [--c 1.0] [--max-iter 1000]
      [--predictions FILE]

--predictions writes scikit-learn's own predict_proba on the holdout (JSON), the oracle the tests compare
onnxruntime's output with. Seed: MLOPS_SEED (default 0). Same data, options and seed -> same bytes.
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
import onnx
import sklearn
from onnx import TensorProto, helper
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

OPSET = 13
IR_VERSION = 8


def load(path, schema):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{path}: no rows")
    x = np.array([[float(r[c]) for c in schema["features"]] for r in rows], dtype=np.float64)
    y = np.array([int(r[schema["label"]]) for r in rows], dtype=np.int64)
    return x, y


def fit(x, y, schema, c, max_iter, seed):
    features = schema["features"]
    numeric = [i for i, f in enumerate(features) if f not in schema["categorical"]]
    categorical = [i for i, f in enumerate(features) if f in schema["categorical"]]
    categories = [[float(v) for v in schema["categorical"][features[i]]] for i in categorical]
    pre = ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric),
            ("categorical", OneHotEncoder(categories=categories, handle_unknown="ignore"), categorical),
        ],
        sparse_threshold=0,
    )
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(C=c, max_iter=max_iter, tol=1e-10, random_state=seed))])
    model.fit(x, y)
    return model, numeric, categorical, categories


def export(model, numeric, categorical, categories, schema):
    scaler = model.named_steps["pre"].named_transformers_["numeric"]
    clf = model.named_steps["clf"]
    features = schema["features"]
    f32 = lambda name, dims, vals: helper.make_tensor(name, TensorProto.FLOAT, dims, [float(v) for v in vals])
    i64 = lambda name, dims, vals: helper.make_tensor(name, TensorProto.INT64, dims, [int(v) for v in vals])
    nodes, inits, parts = [], [], []
    if numeric:
        raw = "input"
        if numeric != list(range(len(features))):
            inits.append(i64("numeric_index", [len(numeric)], numeric))
            nodes.append(helper.make_node("Gather", ["input", "numeric_index"], ["numeric_raw"], name="numeric_raw", axis=1))
            raw = "numeric_raw"
        inits.append(f32("numeric_mean", [len(numeric)], scaler.mean_))
        inits.append(f32("numeric_scale", [len(numeric)], scaler.scale_))
        nodes.append(helper.make_node("Sub", [raw, "numeric_mean"], ["numeric_centered"], name="numeric_centered"))
        nodes.append(helper.make_node("Div", ["numeric_centered", "numeric_scale"], ["numeric_standardized"], name="numeric_standardized"))
        parts.append("numeric_standardized")
    if categorical:
        index = [i for i, cats in zip(categorical, categories) for _ in cats]
        codes = [v for cats in categories for v in cats]
        inits.append(i64("categorical_index", [len(index)], index))
        inits.append(f32("categorical_codes", [len(codes)], codes))
        nodes.append(helper.make_node("Gather", ["input", "categorical_index"], ["categorical_raw"], name="categorical_raw", axis=1))
        nodes.append(helper.make_node("Equal", ["categorical_raw", "categorical_codes"], ["categorical_match"], name="categorical_match"))
        nodes.append(helper.make_node("Cast", ["categorical_match"], ["categorical_onehot"], name="categorical_onehot", to=TensorProto.FLOAT))
        parts.append("categorical_onehot")
    encoded = parts[0]
    if len(parts) > 1:
        nodes.append(helper.make_node("Concat", parts, ["encoded"], name="encoded", axis=1))
        encoded = "encoded"
    coef = clf.coef_[0]
    inits.append(f32("coefficients", [len(coef), 1], coef))
    inits.append(f32("intercept", [1], [clf.intercept_[0]]))
    inits.append(f32("one", [1], [1.0]))
    nodes += [
        helper.make_node("MatMul", [encoded, "coefficients"], ["margin_raw"], name="margin_raw"),
        helper.make_node("Add", ["margin_raw", "intercept"], ["margin"], name="margin"),
        helper.make_node("Sigmoid", ["margin"], ["probability_1"], name="probability_1"),
        helper.make_node("Sub", ["one", "probability_1"], ["probability_0"], name="probability_0"),
        helper.make_node("Concat", ["probability_0", "probability_1"], ["probabilities"], name="probabilities", axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], name="label", axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "linear_classifier",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", len(features)])],
        [
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        ],
        initializer=inits,
    )
    model_proto = helper.make_model(
        graph,
        producer_name="mlops-actions/scripts/train.py",
        producer_version="sklearn-" + sklearn.__version__,
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model_proto.ir_version = IR_VERSION
    metadata = {"mlops.features": json.dumps(features, separators=(",", ":")), "mlops.label": schema["label"], "mlops.task": "binary"}
    for key in sorted(metadata):
        entry = model_proto.metadata_props.add()
        entry.key, entry.value = key, metadata[key]
    onnx.checker.check_model(model_proto)
    return model_proto.SerializeToString()


def write_atomic(path, data):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train", default="data/train.csv")
    p.add_argument("--holdout", default="data/holdout.csv")
    p.add_argument("--schema")
    p.add_argument("--model-dir", default="model")
    p.add_argument("--metrics", default="metrics.json")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--c", type=float, default=1.0)
    p.add_argument("--max-iter", type=int, default=1000)
    p.add_argument("--predictions")
    a = p.parse_args()
    seed = int(os.environ.get("MLOPS_SEED", "0"))
    np.random.seed(seed)
    with open(a.schema or os.path.join(os.path.dirname(a.train), "schema.json")) as f:
        schema = json.load(f)
    x, y = load(a.train, schema)
    hx, hy = load(a.holdout, schema)
    model, numeric, categorical, categories = fit(x, y, schema, a.c, a.max_iter, seed)
    proba = model.predict_proba(hx)
    metrics = {
        "accuracy": float(accuracy_score(hy, proba.argmax(axis=1))),
        "f1": float(f1_score(hy, proba.argmax(axis=1))),
        "roc_auc": float(roc_auc_score(hy, proba[:, 1])),
        "log_loss": float(log_loss(hy, proba)),
    }
    model_path = os.path.join(a.model_dir, "model.onnx")
    write_atomic(model_path, export(model, numeric, categorical, categories, schema))
    write_atomic(a.metrics, json.dumps(metrics, indent=2, allow_nan=False) + "\n")
    # params.yaml by hand: PyYAML is not guaranteed on the runner, and these values are plain scalars.
    params = {"model": "logistic_regression", "trainer": "sklearn-lbfgs", "C": a.c, "max_iter": a.max_iter, "seed": seed}
    write_atomic(a.params, "train:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in params.items()))
    if a.predictions:
        write_atomic(a.predictions, json.dumps({"predict_proba": proba.tolist()}, allow_nan=False))
    print(f"wrote {model_path}: {json.dumps(metrics)}")


if __name__ == "__main__":
    main()
