"""The two densities of the likelihood-ratio example, shared by the member
(train.py) and the combination (combine.py).

p0 = N(0, I) and p1 = N(mu, S) in D dimensions, with S diagonal: the exact
log-likelihood ratio log p1(x) / p0(x) is known in closed form.
"""
import numpy as np

D = 4
MU = np.array([0.8, -0.5, 0.3, 0.0])
VAR1 = np.array([1.5, 0.7, 1.0, 1.3])
EVAL_SEED = 20260101


def sample(rng, n):
    """n points of each class: (x, y) with y = 1 for p1."""
    x0 = rng.standard_normal((n, D))
    x1 = MU + rng.standard_normal((n, D)) * np.sqrt(VAR1)
    return np.vstack([x0, x1]), np.concatenate([np.zeros(n), np.ones(n)])


def exact_llr(x):
    """log p1(x) - log p0(x), exactly."""
    l1 = -0.5 * np.sum((x - MU) ** 2 / VAR1 + np.log(VAR1), axis=1)
    l0 = -0.5 * np.sum(x ** 2, axis=1)
    return l1 - l0


def eval_sample(n):
    """The fixed evaluation sample every member predicts on."""
    x, _ = sample(np.random.default_rng(EVAL_SEED), n // 2)
    return x
