# XGBoost's random forest on the benchmark's CSV, as npm run bench:scale measures it: pandas read_csv included,
# the rows with fold == 1 held out (the ones ml.yaml's split.by: fold holds out for Bramble), accuracy on them.
# Parameters as in /work/shared/BASELINES.md: XGBRFClassifier(tree_method="hist", max_depth=0,
# grow_policy="lossguide", subsample=0.632, colsample_bynode=sqrt(features)/features). Prints one JSON object.
import json
import math
import resource
import sys
import time

started = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xgboost  # noqa: E402

job = json.loads(sys.argv[1])
imported = time.perf_counter()
frame = pd.read_csv(job["file"])
read = time.perf_counter()
held = frame["fold"].to_numpy() == 1
y = frame["target"].to_numpy()
x = frame.drop(columns=["fold", "target"]).to_numpy(dtype=np.float32)
del frame
features = x.shape[1]
model = xgboost.XGBRFClassifier(
    n_estimators=job["trees"],
    tree_method="hist",
    max_depth=0,
    grow_policy="lossguide",
    subsample=0.632,
    colsample_bynode=math.sqrt(features) / features,
    n_jobs=job.get("threads", 2),
    random_state=job.get("seed", 7),
)
model.fit(x[~held], y[~held])
fitted = time.perf_counter()
accuracy = float((model.predict(x[held]) == y[held]).mean())
done = time.perf_counter()
print(
    json.dumps(
        {
            "xgboost": xgboost.__version__,
            "train_rows": int((~held).sum()),
            "test_rows": int(held.sum()),
            "import_s": imported - started,
            "read_s": read - imported,
            "fit_s": fitted - read,
            "predict_s": done - fitted,
            "total_s": done - started,
            "accuracy": accuracy,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )
)
