#!/usr/bin/python3
"""One ensemble member: the classifier trick for a likelihood ratio.

A small neural network s(x) learns to tell samples of p1 from samples of
p0 (equal numbers of each); then s / (1 - s) estimates p1(x) / p0(x), and
logit(s(x)) the log-likelihood ratio.  The member trains on its own sample
with its own initialisation, both from its seed (MLS_PARAMS "seed"), and
writes its log-likelihood-ratio estimate on the fixed evaluation sample to
$MLS_OUTPUT_DIR/llr.npy.  Sizes come from NTRAIN, NEVAL and EPOCHS.
"""
import json
import os
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import lrcommon

warnings.filterwarnings("ignore", category=ConvergenceWarning)

with open(os.environ["MLS_PARAMS"]) as f:
    params = json.load(f)
seed = int(params["seed"])
ntrain = int(os.environ.get("NTRAIN", "4000"))
neval = int(os.environ.get("NEVAL", "4000"))
epochs = int(os.environ.get("EPOCHS", "150"))

rng = np.random.default_rng(seed)
x, y = lrcommon.sample(rng, ntrain // 2)
net = MLPClassifier(hidden_layer_sizes=(32, 32), alpha=1e-4,
                    learning_rate_init=3e-3, max_iter=epochs,
                    random_state=seed % (2 ** 31))
net.fit(x, y)

xe = lrcommon.eval_sample(neval)
p = np.clip(net.predict_proba(xe)[:, 1], 1e-7, 1 - 1e-7)
llr = np.log(p) - np.log1p(-p)
out = os.environ.get("MLS_OUTPUT_DIR", ".")
np.save(os.path.join(out, "llr.npy"), llr)

rmse = float(np.sqrt(np.mean((llr - lrcommon.exact_llr(xe)) ** 2)))
with open(os.environ.get("MLS_METRICS", os.devnull), "a") as f:
    f.write(json.dumps({"step": net.n_iter_, "loss": float(net.loss_),
                        "llr_rmse": rmse}) + "\n")
print("member %d seed %d: rmse %.4f after %d epochs" % (
    params["member"], seed, rmse, net.n_iter_))
