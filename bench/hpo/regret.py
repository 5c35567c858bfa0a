#!/usr/bin/python3
"""Median simple regret of mls random/sobol/tpe (driven through
`mls-search --ask-tell` as a coprocess) and Optuna Random/TPE on Branin,
Hartmann6, Rosenbrock-5d and Ackley-5d; prints one JSON object.

    /usr/bin/python3 bench/hpo/regret.py [--quick] [--mls PATH] [--jobs N]
        [--seeds N] [--first-seed S] [--samplers LIST] [--budgets LIST]

--quick: 5 seeds, budgets 50 and 100 (about a minute on 2 cores);
default: 15 seeds, budgets 50, 100 and 200.
"""
import argparse
import json
import math
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys


def branin(x):
    a, b, c = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * math.cos(x[0]) + s


H_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
       [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
       [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
       [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
       [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
H_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(x):
    return -sum(H_ALPHA[i] * math.exp(-sum(H_A[i][j] * (x[j] - H_P[i][j]) ** 2
                                            for j in range(6))) for i in range(4))


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def ackley(x):
    d = len(x)
    return (-20 * math.exp(-0.2 * math.sqrt(sum(v * v for v in x) / d)) -
            math.exp(sum(math.cos(2 * math.pi * v) for v in x) / d) + 20 + math.e)


# name: (function, bounds, optimum)
PROBLEMS = {
    "branin": (branin, [(-5, 10), (0, 15)], 0.397887357729739),
    "hartmann6": (hartmann6, [(0, 1)] * 6, -3.32236801141551),
    "rosenbrock5": (rosenbrock, [(-2.048, 2.048)] * 5, 0.0),
    "ackley5": (ackley, [(-32.768, 32.768)] * 5, 0.0),
}


def run_mls(mls, algorithm, problem, seed, budget):
    f, bounds, _ = PROBLEMS[problem]
    cmd = [mls, "--ask-tell", "--algorithm", algorithm, "--seed", str(seed),
           "--trials", str(budget)]
    for i, (lo, hi) in enumerate(bounds):
        cmd += ["-p", "x%d=uniform:%r:%r" % (i, lo, hi)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    values = []
    for line in proc.stdout:
        rec = json.loads(line)
        if rec.get("kind") != "params":
            continue
        x = [rec["params"]["x%d" % i] for i in range(len(bounds))]
        v = f(x)
        values.append(v)
        proc.stdin.write(json.dumps({"number": rec["number"], "value": v}) + "\n")
        proc.stdin.flush()
        if len(values) >= budget:
            break
    proc.stdin.close()
    proc.wait()
    if proc.returncode != 0:
        raise RuntimeError("%s exited %d" % (" ".join(cmd), proc.returncode))
    return values


def run_optuna(algorithm, problem, seed, budget):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    f, bounds, _ = PROBLEMS[problem]
    sampler = (optuna.samplers.TPESampler(seed=seed) if algorithm == "tpe"
               else optuna.samplers.RandomSampler(seed=seed))
    study = optuna.create_study(sampler=sampler)
    dists = {"x%d" % i: optuna.distributions.FloatDistribution(lo, hi)
             for i, (lo, hi) in enumerate(bounds)}
    values = []
    for _ in range(budget):
        t = study.ask(dists)
        v = f([t.params["x%d" % i] for i in range(len(bounds))])
        study.tell(t, v)
        values.append(v)
    return values


def job(args):
    mls, sampler, problem, seed, budget = args
    kind, alg = sampler.split(":")
    if kind == "mls":
        values = run_mls(mls, alg, problem, seed, budget)
    else:
        values = run_optuna(alg, problem, seed, budget)
    return sampler, problem, seed, values


def find_mls(path):
    if path:
        return path
    for c in [os.environ.get("MLS_SEARCH"), shutil.which("mls-search")]:
        if c:
            return c
    sys.exit("regret.py: mls-search not found (use --mls PATH)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--mls")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds FIRST..FIRST+N-1 (default 0; 15 for a second set)")
    ap.add_argument("--samplers",
                    help="comma-separated subset, e.g. mls:tpe,optuna:tpe")
    ap.add_argument("--budgets", help="comma-separated, e.g. 50,100,200")
    a = ap.parse_args()
    mls = find_mls(a.mls)
    seeds = a.seeds or (5 if a.quick else 15)
    budgets = [50, 100] if a.quick else [50, 100, 200]
    if a.budgets:
        budgets = sorted(int(b) for b in a.budgets.split(","))
    samplers = ["mls:random", "mls:sobol", "mls:tpe", "optuna:random", "optuna:tpe"]
    if a.samplers:
        samplers = a.samplers.split(",")
    jobs = [(mls, s, p, seed, budgets[-1]) for s in samplers for p in PROBLEMS
            for seed in range(a.first_seed, a.first_seed + seeds)]
    with multiprocessing.Pool(a.jobs) as pool:
        results = pool.map(job, jobs, chunksize=1)
    out = {}
    for sampler, problem, seed, values in results:
        opt = PROBLEMS[problem][2]
        d = out.setdefault(problem, {}).setdefault(sampler, {})
        for b in budgets:
            d.setdefault(str(b), []).append(min(values[:b]) - opt)
    for problem in out:
        for sampler in out[problem]:
            for b in out[problem][sampler]:
                out[problem][sampler][b] = round(statistics.median(
                    out[problem][sampler][b]), 6)
    print(json.dumps({"metric": "median simple regret", "seeds": seeds,
                      "first_seed": a.first_seed,
                      "budgets": budgets, "regret": out}))


if __name__ == "__main__":
    main()
