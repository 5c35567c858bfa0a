#!/usr/bin/python3
"""Combine the members fetched by mls-fetch (DIR/manifest.json and
DIR/member-NNNN/outputs/llr.npy): average their log-likelihood ratios and
compare the error of the average with that of single members.

usage: combine.py DIR
"""
import json
import os
import sys

import numpy as np

import lrcommon

top = sys.argv[1] if len(sys.argv) > 1 else "got"
with open(os.path.join(top, "manifest.json")) as f:
    manifest = json.load(f)
preds = []
for m in manifest["members"]:
    preds.append(np.load(os.path.join(top, m["dir"], "outputs", "llr.npy")))
preds = np.array(preds)
n, neval = preds.shape
exact = lrcommon.exact_llr(lrcommon.eval_sample(neval))


def rmse(v):
    return float(np.sqrt(np.mean((v - exact) ** 2)))


single = np.array([rmse(p) for p in preds])
mean = preds.mean(axis=0)
spread = float(np.sqrt(np.mean(preds.var(axis=0))))
print("ensemble %s: %d members, quorum %s" % (
    manifest["ensemble"], n, manifest["quorum"]["outcome"]))
print("single members: mean rmse %.4f (best %.4f, worst %.4f)" % (
    single.mean(), single.min(), single.max()))
print("ensemble of %d members: rmse %.4f, member spread %.4f" % (
    n, rmse(mean), spread))
print("variance reduction: mean squared error %.4f -> %.4f" % (
    float(np.mean(single ** 2)), rmse(mean) ** 2))
