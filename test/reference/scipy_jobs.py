#!/usr/bin/python3
"""scipy's answers for test/data-drift.test.ts (through test/helpers/reference-drift.ts).

Run with Debian's /usr/bin/python3 (python3-scipy, python3-numpy; python3-sklearn brings both). The one argument
is a JSON file {"jobs": [{"name": ..., "body": <Python>, "input": <JSON>}, ...]}. Each body runs with numpy as
np, scipy's stats and special, scipy.spatial's distance, and its input as d, and sets out. It prints

    {"scipy": "1.10.1", "numpy": "1.24.2", "results": {<name>: <out>, ...}}

and exits 0; a bad input prints a message on stderr and exits 2, a missing library exits 3.
"""

import json
import sys


def fail(message, code=2):
    sys.stderr.write(message + "\n")
    sys.exit(code)


try:
    import numpy as np
    import scipy
    from scipy import special, stats
    from scipy.spatial import distance
except ImportError as err:  # pragma: no cover - the message is what the JS side shows
    fail(
        f"scipy is not importable by {sys.executable} ({err}); install it with `apt-get install python3-sklearn`",
        3,
    )


def main():
    if len(sys.argv) != 2:
        fail("usage: scipy_jobs.py jobs.json")
    try:
        with open(sys.argv[1], encoding="utf-8") as handle:
            jobs = json.load(handle).get("jobs")
    except (OSError, json.JSONDecodeError, AttributeError) as err:
        fail(f"{sys.argv[1]}: {err}")
    if not isinstance(jobs, list):
        fail(f'{sys.argv[1]}: "jobs" must be a list')
    results = {}
    for job in jobs:
        scope = {"np": np, "stats": stats, "special": special, "distance": distance, "d": job.get("input")}
        exec(job["body"], scope)  # the bodies are the test's own, from test/helpers/reference-drift.ts
        if "out" not in scope:
            fail(f"{job.get('name')}: the body set no `out`")
        results[job["name"]] = scope["out"]
    # repr of a float64 round-trips, and JSON.parse reads it back to the same double.
    print(json.dumps({"scipy": scipy.__version__, "numpy": np.__version__, "results": results}, allow_nan=False))


if __name__ == "__main__":
    main()
