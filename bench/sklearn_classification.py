# scikit-learn's make_classification(n, 20, n_informative=10, n_redundant=5, random_state=42) as CSV, with the same
# `fold` column as bench/make-classification.mjs (every fourth row held out): npm run bench:scale -- --sklearn.
# The data BASELINES.md's 100,000 × 20 figures were measured on; XGBoost's time depends strongly on the data.
import sys

import numpy as np
from sklearn.datasets import make_classification

rows, path = int(sys.argv[1]), sys.argv[2]
x, y = make_classification(n_samples=rows, n_features=20, n_informative=10, n_redundant=5, random_state=42)
fold = (np.arange(rows) % 4 == 3).astype(int)
with open(path, "w") as out:
    out.write(",".join([f"x{i}" for i in range(20)] + ["fold", "target"]) + "\n")
    np.savetxt(out, np.column_stack([x, fold, y]), delimiter=",", fmt=["%.5f"] * 20 + ["%d", "%d"])
