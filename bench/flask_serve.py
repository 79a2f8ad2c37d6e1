"""The baseline of `npm run bench:serve`: the shape of MLflow's scoring server, Flask + scikit-learn.

`/usr/bin/python3 bench/flask_serve.py CSV [--host H] [--port P]` trains a random forest on the template's churn
data (the preprocessing of templates/model-repo/ml.yaml in spirit: TotalCharges to a number with a median fill,
one-hot categories with pandas.get_dummies, 200 trees, max_depth 12, min_samples_leaf 10), then answers
POST /invocations with MLflow's `{"dataframe_records": [...]}` → `{"predictions": [...]}`.

It serves with Werkzeug's own server (what Flask's app.run uses), one request at a time (threaded=False): `mlflow
models serve` runs gunicorn (or uvicorn) with one sync worker by default, which also handles one request at a
time. Port 0 takes a free port; the line `flask_serve: listening on http://HOST:PORT` on stderr says which.
"""
import argparse
import logging
import sys
import time

import pandas as pd
from flask import Flask, jsonify, request
from sklearn.ensemble import RandomForestClassifier
from werkzeug.serving import make_server

TARGET = 'Churn'
ID = 'customerID'


def preprocess(frame, columns=None, median=None):
    """Numbers as they are, TotalCharges as a number (blanks → the training median), categories one-hot."""
    frame = frame.drop(columns=[c for c in (ID, TARGET) if c in frame.columns])
    frame = frame.copy()
    frame['TotalCharges'] = pd.to_numeric(frame['TotalCharges'], errors='coerce')
    if median is None:
        median = float(frame['TotalCharges'].median())
    frame['TotalCharges'] = frame['TotalCharges'].fillna(median)
    categories = [c for c in frame.columns if frame[c].dtype == object]
    encoded = pd.get_dummies(frame, columns=categories)
    # A request's rows carry only the categories they use: the columns the forest was fitted on, absent ones 0.
    if columns is not None:
        encoded = encoded.reindex(columns=columns, fill_value=0)
    return encoded, median


def train(csv):
    data = pd.read_csv(csv)
    x, median = preprocess(data)
    forest = RandomForestClassifier(n_estimators=200, max_depth=12, min_samples_leaf=10, random_state=7, n_jobs=1)
    forest.fit(x.to_numpy(dtype=float), data[TARGET])
    return forest, list(x.columns), median


def create_app(forest, columns, median):
    app = Flask('flask_serve')

    @app.post('/invocations')
    def invocations():
        body = request.get_json(force=True)
        records = body.get('dataframe_records') if isinstance(body, dict) else None
        if not isinstance(records, list):
            return jsonify(error='the body must be {"dataframe_records": [...]}'), 400
        x, _ = preprocess(pd.DataFrame(records), columns, median)
        return jsonify(predictions=forest.predict(x.to_numpy(dtype=float)).tolist())

    @app.get('/ping')
    def ping():
        return jsonify(status='ok')

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('csv')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    forest, columns, median = train(args.csv)
    # One line per request on stderr would cost time that MLflow's server (gunicorn, no access log) does not spend.
    logging.getLogger('werkzeug').setLevel(logging.ERROR)
    server = make_server(args.host, args.port, create_app(forest, columns, median), threaded=False)
    print(f'flask_serve: trained in {time.perf_counter() - started:.1f} s; listening on http://{args.host}:{server.server_port}', file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
