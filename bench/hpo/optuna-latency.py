#!/usr/bin/python3
"""Time Optuna TPESampler's ask at 100, 1,000 and 10,000 completed trials on
the 5-d mixed space of suggest-bench.c; prints one JSON object.
    /usr/bin/python3 bench/hpo/optuna-latency.py [--multivariate] [SIZES...]
"""
import json
import math
import random
import sys
import time

import optuna
from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                  IntDistribution)

optuna.logging.set_verbosity(optuna.logging.WARNING)

DISTS = {
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
    "dropout": FloatDistribution(0.0, 0.5),
    "momentum": FloatDistribution(0.5, 0.99),
    "layers": IntDistribution(1, 8),
    "activation": CategoricalDistribution(["relu", "tanh", "gelu"]),
}


def objective(p):
    return ((math.log10(p["lr"]) + 3) ** 2 + (p["dropout"] - 0.2) ** 2 +
            (p["momentum"] - 0.9) ** 2 + 0.1 * abs(p["layers"] - 4) +
            (0 if p["activation"] == "relu" else 0.5))


def random_params(rng):
    return {
        "lr": 10 ** rng.uniform(-5, -1),
        "dropout": rng.uniform(0, 0.5),
        "momentum": rng.uniform(0.5, 0.99),
        "layers": rng.randint(1, 8),
        "activation": rng.choice(["relu", "tanh", "gelu"]),
    }


def main():
    args = sys.argv[1:]
    multivariate = "--multivariate" in args
    sizes = [int(a) for a in args if not a.startswith("--")] or [100, 1000, 10000]
    out = {}
    for n in sizes:
        rng = random.Random(7)
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(
            seed=1, multivariate=multivariate))
        trials = []
        for _ in range(n):
            p = random_params(rng)
            trials.append(optuna.trial.create_trial(
                params=p, distributions=DISTS, value=objective(p)))
        study.add_trials(trials)
        reps = 5 if n >= 10000 else (20 if n >= 1000 else 50)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            trial = study.ask(DISTS)	# samples every parameter
            times.append(time.perf_counter() - t0)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        times.sort()
        out[str(n)] = {"median_ms": times[len(times) // 2] * 1e3,
                       "mean_ms": sum(times) / len(times) * 1e3,
                       "asks": reps}
    print(json.dumps({"sampler": "optuna %s TPESampler" % optuna.__version__,
                      "multivariate": multivariate, "ask": out}))


if __name__ == "__main__":
    main()
