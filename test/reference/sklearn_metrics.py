#!/usr/bin/python3
"""scikit-learn's metrics as the reference for test/evaluate.test.ts.

Run with Debian's /usr/bin/python3 (python3-sklearn, python3-numpy): `sklearn_metrics.py cases.json`. The file
holds {"cases": [case, ...]}, each case one of

    {"name": "...", "task": "classification", "classes": [...], "labels": [...],
     "probabilities": [[p per class] per row], "positive": <label> | null}
    {"name": "...", "task": "regression", "actual": [...], "predicted": [...]}

For classification the prediction is the argmax of the probabilities (numpy's: the first class on ties). With
two classes, precision/recall/f1/roc_auc/calibration are about `positive` (default: classes[1]); with more,
precision/recall/f1 are macro averages, roc_auc is one-vs-rest macro, and calibration is top-label (the predicted
class's probability against whether the prediction is right). A metric scikit-learn refuses (ROC AUC with a
single class present) is null with its error message. It prints

    {"sklearn": "1.2.1", "numpy": "1.24.2", "results": [{"name": ..., <metrics>}, ...]}

and exits 0; a bad input prints a message on stderr and exits 2, a missing library exits 3.
"""

import json
import sys


def fail(message, code=2):
    sys.stderr.write(message + "\n")
    sys.exit(code)


try:
    import numpy as np
    import sklearn
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        log_loss,
        mean_absolute_error,
        mean_squared_error,
        precision_recall_fscore_support,
        precision_score,
        r2_score,
        recall_score,
        roc_auc_score,
    )
except ImportError as err:  # pragma: no cover - the message is what the JS side shows
    fail(
        f"scikit-learn is not importable by {sys.executable} ({err}); "
        "install it with `apt-get install python3-sklearn`",
        3,
    )

N_BINS = 10


def calibration(happened, predicted):
    """calibration_curve's two arrays (non-empty bins only) and the count in every bin, binned as it bins."""
    prob_true, prob_pred = calibration_curve(happened, predicted, n_bins=N_BINS, strategy="uniform")
    edges = np.linspace(0.0, 1.0, N_BINS + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], predicted), minlength=N_BINS)
    return {"counts": counts.tolist(), "prob_true": prob_true.tolist(), "prob_pred": prob_pred.tolist()}


def classification(case):
    classes = case["classes"]
    # Plain arrays (int or str): scikit-learn calls an object array of numbers "unknown".
    y = np.array(case["labels"])
    proba = np.array(case["probabilities"], dtype=np.float64)
    if proba.shape != (len(y), len(classes)):
        fail(f"{case['name']}: probabilities are {proba.shape}, expected ({len(y)}, {len(classes)})")
    labels_array = np.array(classes)
    pred = labels_array[np.argmax(proba, axis=1)]
    out = {"name": case["name"], "accuracy": accuracy_score(y, pred)}

    if len(classes) == 2:
        positive = case.get("positive")
        if positive is None:
            positive = classes[1]
        k = classes.index(positive)
        binary = dict(pos_label=positive, average="binary", zero_division=0)
        out["precision"] = precision_score(y, pred, **binary)
        out["recall"] = recall_score(y, pred, **binary)
        out["f1"] = f1_score(y, pred, **binary)
        auc_args = ((y == positive).astype(int), proba[:, k])
        auc_kwargs = {}
        out["calibration"] = calibration((y == positive).astype(int), proba[:, k])
    else:
        auc_args = (y, proba)
        auc_kwargs = dict(multi_class="ovr", average="macro", labels=classes)
        top = proba[np.arange(len(y)), np.argmax(proba, axis=1)]
        out["calibration"] = calibration((pred == y).astype(int), top)

    macro = dict(average="macro", zero_division=0)
    out["macro"] = {
        "precision": precision_score(y, pred, **macro),
        "recall": recall_score(y, pred, **macro),
        "f1": f1_score(y, pred, **macro),
    }
    if len(classes) > 2:
        out["precision"], out["recall"], out["f1"] = (out["macro"][m] for m in ("precision", "recall", "f1"))

    p, r, f, support = precision_recall_fscore_support(y, pred, labels=classes, average=None, zero_division=0)
    out["per_class"] = {"precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(), "support": support.tolist()}

    try:
        out["roc_auc"] = roc_auc_score(*auc_args, **auc_kwargs)
        out["roc_auc_error"] = None
    except ValueError as err:
        out["roc_auc"] = None
        out["roc_auc_error"] = str(err)

    out["log_loss"] = log_loss(y, proba, labels=classes)
    out["confusion"] = confusion_matrix(y, pred, labels=classes).tolist()
    return out


def regression(case):
    actual = np.array(case["actual"], dtype=np.float64)
    predicted = np.array(case["predicted"], dtype=np.float64)
    return {
        "name": case["name"],
        "rmse": mean_squared_error(actual, predicted, squared=False),
        "mae": mean_absolute_error(actual, predicted),
        "r2": r2_score(actual, predicted),
    }


def main():
    if len(sys.argv) != 2:
        fail("usage: sklearn_metrics.py cases.json")
    try:
        with open(sys.argv[1], encoding="utf-8") as handle:
            job = json.load(handle)
    except (OSError, json.JSONDecodeError) as err:
        fail(f"{sys.argv[1]}: {err}")
    results = []
    for case in job.get("cases", []):
        task = case.get("task")
        if task == "classification":
            results.append(classification(case))
        elif task == "regression":
            results.append(regression(case))
        else:
            fail(f"{case.get('name')}: task must be classification or regression, got {task!r}")

    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        return value

    # repr of a float64 round-trips, and JSON.parse reads it back to the same double.
    print(json.dumps({"sklearn": sklearn.__version__, "numpy": np.__version__, "results": plain(results)}))


if __name__ == "__main__":
    main()
