#!/usr/bin/python3
"""Train a small MLP on scikit-learn's digits data set (ships with
python3-sklearn: no download) and report validation accuracy per epoch.

The hyperparameters come from the job's params (MLS_PARAMS, a JSON file;
input.json in the work dir for phpo-style payloads).  One metrics line per
epoch goes to MLS_METRICS, so mls-search can prune poor trials early.
"""
import json
import os
import sys
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def load_params():
    path = os.environ.get("MLS_PARAMS", "input.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {}


def main():
    p = load_params()
    lr = float(p.get("lr", 1e-3))
    alpha = float(p.get("alpha", 1e-4))
    units = int(p.get("units", 64))
    layers = int(p.get("layers", 1))
    activation = p.get("activation", "relu")
    epochs = int(p.get("epochs", 30))
    batch = int(p.get("batch_size", 64))

    x, y = load_digits(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.25, random_state=0,
                                              stratify=y)
    scaler = StandardScaler().fit(x_tr)
    x_tr, x_va = scaler.transform(x_tr), scaler.transform(x_va)
    clf = MLPClassifier(hidden_layer_sizes=(units,) * layers, activation=activation,
                        alpha=alpha, learning_rate_init=lr, batch_size=batch,
                        max_iter=1, warm_start=True, random_state=int(p.get("seed", 0)))
    metrics = open(os.environ.get("MLS_METRICS", os.devnull), "a")
    best = 0.0
    for epoch in range(1, epochs + 1):
        clf.fit(x_tr, y_tr)
        acc = clf.score(x_va, y_va)
        best = max(best, acc)
        metrics.write(json.dumps({"step": epoch, "val_accuracy": acc,
                                  "train_loss": clf.loss_}) + "\n")
        metrics.flush()
    print(f"val_accuracy={acc:.4f} best={best:.4f}")
    out = os.environ.get("MLS_OUTPUT_DIR", ".")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"params": p, "val_accuracy": acc, "best_val_accuracy": best}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
