"""scikit-learn's side of `npm run bench:train`: the same train/test CSV files, the same forest parameters.

Run with Debian's interpreter (/usr/bin/python3, python3-sklearn). Prints one JSON object.
"""
import json
import resource
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor


def load(path):
    with open(path) as f:
        header = f.readline()
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    return data[:, :-1], data[:, -1]


def main():
    job = json.loads(sys.argv[1])
    x_train, y_train = load(job["train"])
    x_test, y_test = load(job["test"])
    classification = job["task"] == "classification"
    Model = RandomForestClassifier if classification else RandomForestRegressor
    params = dict(n_estimators=job["trees"], max_depth=job["maxDepth"], random_state=job["seed"],
                  max_features="sqrt" if classification else 1.0)
    out = {"sklearn": sklearn.__version__}
    for jobs in (1, 2):
        times = []
        for rep in range(job["repeats"]):
            model = Model(n_jobs=jobs, **params)
            t0 = time.perf_counter()
            model.fit(x_train, y_train)
            times.append(time.perf_counter() - t0)
        out[f"train_n_jobs{jobs}"] = statistics.median(times)
        if jobs == 1:
            single = model
    model = single
    pred = model.predict(x_test)
    if classification:
        out["score"] = float(np.mean(pred == y_test))
    else:
        out["score"] = float(1 - np.sum((y_test - pred) ** 2) / np.sum((y_test - y_test.mean()) ** 2))
    # One row at a time, as a model server answers a request.
    predict = model.predict_proba if classification else model.predict
    rows = min(200, len(x_test))
    lat = []
    for i in range(rows):
        row = x_test[i:i + 1]
        t0 = time.perf_counter()
        predict(row)
        lat.append(time.perf_counter() - t0)
    out["row_us"] = statistics.median(lat) * 1e6
    # The whole test set at once, repeated for at least half a second.
    n, t0 = 0, time.perf_counter()
    while True:
        predict(x_test)
        n += len(x_test)
        if time.perf_counter() - t0 > 0.5:
            break
    out["batch_rows_per_s"] = n / (time.perf_counter() - t0)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


main()
