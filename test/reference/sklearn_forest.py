#!/usr/bin/python3
"""scikit-learn's random forest as the reference for test/forest-reference.test.ts.

Run with Debian's /usr/bin/python3 (python3-sklearn, python3-numpy). The input is a JSON object, given as the
first argument or on stdin: one job, or {"jobs": [job, ...]} to pay for importing scikit-learn once. A job:

    {
      "name": "iris",                     (optional; echoed back)
      "task": "classification" | "regression",
      "n_estimators": 100,
      "max_features": "sqrt" | "log2" | "all" | <fraction in (0, 1)> | <integer>,
      "seeds": [0, 1, 2],
      "splits": [{"train": "/tmp/.../iris-0-train.csv", "test": "/tmp/.../iris-0-test.csv"}, ...]
    }

("train"/"test" at the top of a job stand for a single split.) Each CSV has a header row, numeric features and
the target in the last column (a class label, or a number for regression). For every split and every seed it fits
RandomForestClassifier/RandomForestRegressor (n_jobs=1, scikit-learn's defaults otherwise: no depth limit,
bootstrap) with random_state=seed and scores the held-out rows: accuracy, or R² for regression. It prints

    {"sklearn": "1.2.1", "numpy": "1.24.2",
     "results": [{"name": "iris", "scores": [[split 0 seed 0, split 0 seed 1, ...], ...], "mean": ...,
                  "seconds": <fitting and scoring time>}, ...]}

and exits 0; a bad job prints a message on stderr and exits 2, a missing library exits 3.
"""

import csv
import json
import sys
import time


def fail(message, code=2):
    sys.stderr.write(message + "\n")
    sys.exit(code)


try:
    import numpy as np
    import sklearn
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.metrics import accuracy_score, r2_score
except ImportError as err:  # pragma: no cover - the message is what the JS side shows
    fail(
        f"scikit-learn is not importable by {sys.executable} ({err}); "
        "install it with `apt-get install python3-sklearn`",
        3,
    )


def read_job():
    text = sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read()
    try:
        job = json.loads(text)
    except json.JSONDecodeError as err:
        fail(f"the job is not JSON: {err}")
    if not isinstance(job, dict):
        fail("the job must be a JSON object")
    return job


def read_csv(path, task):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        fail(f"{path} has no data rows")
    body = rows[1:]
    x = np.array([[float(v) for v in row[:-1]] for row in body], dtype=np.float64)
    if task == "regression":
        y = np.array([float(row[-1]) for row in body], dtype=np.float64)
    else:
        y = np.array([row[-1] for row in body])
    return x, y


def max_features_of(value):
    if value == "all":
        return None
    if value in ("sqrt", "log2"):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(f'max_features is {value!r}; use "sqrt", "log2", "all", a fraction or an integer')
    if isinstance(value, float) and 0 < value < 1:
        return value
    if float(value).is_integer() and value >= 1:
        return int(value)
    fail(f"max_features is {value!r}; a number must be a fraction in (0, 1) or an integer >= 1")


def run_job(job):
    if not isinstance(job, dict):
        fail(f"a job must be a JSON object, not {job!r}")
    name = job.get("name")
    task = job.get("task")
    if task not in ("classification", "regression"):
        fail(f'{name}: task is {task!r}; use "classification" or "regression"')
    n_estimators = job.get("n_estimators", 100)
    if isinstance(n_estimators, bool) or not isinstance(n_estimators, int) or n_estimators < 1:
        fail(f"{name}: n_estimators is {n_estimators!r}; use an integer >= 1")
    default_features = "sqrt" if task == "classification" else "all"
    max_features = max_features_of(job.get("max_features", default_features))
    seeds = job.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
        fail(f"{name}: seeds is {seeds!r}; use a non-empty list of integers >= 0")
    splits = job.get("splits")
    if splits is None and "train" in job and "test" in job:
        splits = [{"train": job["train"], "test": job["test"]}]
    if not isinstance(splits, list) or not splits:
        fail(f'{name}: the job needs "splits": [{{"train": path, "test": path}}, ...] (or "train" and "test")')

    started = time.perf_counter()
    Forest = RandomForestClassifier if task == "classification" else RandomForestRegressor
    score = accuracy_score if task == "classification" else r2_score
    scores = []
    for split in splits:
        x_train, y_train = read_csv(split["train"], task)
        x_test, y_test = read_csv(split["test"], task)
        per_seed = []
        for seed in seeds:
            model = Forest(n_estimators=n_estimators, max_features=max_features, n_jobs=1, random_state=seed)
            model.fit(x_train, y_train)
            per_seed.append(float(score(y_test, model.predict(x_test))))
        scores.append(per_seed)
    flat = [s for per_seed in scores for s in per_seed]
    seconds = time.perf_counter() - started
    return {"name": name, "scores": scores, "mean": sum(flat) / len(flat), "seconds": seconds}


def main():
    given = read_job()
    jobs = given["jobs"] if "jobs" in given else [given]
    if not isinstance(jobs, list) or not jobs:
        fail('"jobs" must be a non-empty list of jobs')
    results = [run_job(job) for job in jobs]
    json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__, "results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
