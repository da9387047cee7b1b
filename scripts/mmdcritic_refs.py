#!/usr/bin/env python3
"""Writes numpy references for prototypes' MMD-critic and neighbours' exact search.

Why: the prototypes package's Go tests check MMD-critic (Kim, Khanna, Koyejo
2016) against an implementation written independently of it, and neighbours'
exact search against a plain numpy cosine ranking. Tests never run Python, so
this script computes the references once and the JSON is committed.

Run: .cache/pyenv-exports/bin/python scripts/mmdcritic_refs.py
(numpy only; writes testdata/prototypes/mmdcritic_refs.json).

The selection follows Kim et al.'s published code (github.com/BeenKim/MMD-critic,
mmd.py: greedy_select_protos, select_criticism_regularized with reg "logdet" or
"None", dense kernel), transcribed below: RBF kernel exp(-gamma * ||x - y||^2),
gamma = 1 / median of the pairwise squared distances (i < j) unless given;
candidates in example-id order; np.argmax breaks ties by the first index.
Vectors are drawn as float32 and the Go side reads them as float32.
Cases: Gaussian blobs of several sizes and dimensions, one with duplicated
points, one with a fixed gamma and one with no regulariser.
"""
import json
import pathlib
import sys

import numpy as np

def sqdist(x):
    n = len(x)
    d = np.zeros((n, n))
    for i in range(n):
        diff = x - x[i]
        d[i] = np.sum(diff * diff, axis=1)
    return d


def greedy_select_protos(K, m):
    # Kim et al.'s greedy_select_protos (dense K), with the MMD^2 reduction per step.
    n = K.shape[0]
    colsum = 2 * np.sum(K, axis=0) / n
    selected = np.array([], dtype=int)
    scores = []
    prev = 0.0
    for i in range(m):
        candidates = np.setdiff1d(range(n), selected)
        s1array = colsum[candidates]
        if len(selected) > 0:
            temp = K[selected, :][:, candidates]
            s2array = np.sum(temp, axis=0) * 2 + np.diagonal(K)[candidates]
            s2array = s2array / (len(selected) + 1)
            s1array = s1array - s2array
        else:
            s1array = s1array - np.abs(np.diagonal(K)[candidates])
        argmax = candidates[np.argmax(s1array)]
        selected = np.append(selected, argmax)
        mm = len(selected)
        J = 2.0 / (n * mm) * np.sum(K[:, selected]) - np.sum(K[np.ix_(selected, selected)]) / (mm * mm)
        scores.append(J - prev)
        prev = J
    mmd2 = np.sum(K) / (n * n) - prev
    return selected, scores, mmd2


def select_criticism_regularized(K, selectedprotos, m, reg):
    # Kim et al.'s select_criticism_regularized (dense K), returning the signed witness too.
    n = K.shape[0]
    selected = np.array([], dtype=int)
    candidates2 = np.setdiff1d(range(n), selectedprotos)
    inverse_of_prev_selected = None
    colsum = np.sum(K, axis=0) / n
    witness = colsum - np.sum(K[selectedprotos, :], axis=0) / len(selectedprotos)
    for i in range(m):
        candidates = np.setdiff1d(candidates2, selected)
        s1array = colsum[candidates]
        temp = K[selectedprotos, :][:, candidates]
        s2array = np.sum(temp, axis=0) / len(selectedprotos)
        s1array = np.abs(s1array - s2array)
        if reg == "logdet":
            if inverse_of_prev_selected is not None:
                temp = K[selected, :][:, candidates]
                temp2 = np.array(np.dot(inverse_of_prev_selected, temp))
                regularizer = temp2 * temp
                regcolsum = np.sum(regularizer, axis=0)
                with np.errstate(divide="ignore"):
                    regularizer = np.log(np.abs(np.diagonal(K)[candidates] - regcolsum))
                s1array = s1array + regularizer
            else:
                s1array = s1array - np.log(np.abs(np.diagonal(K)[candidates]))
        argmax = candidates[np.argmax(s1array)]
        selected = np.append(selected, argmax)
        if reg == "logdet":
            inverse_of_prev_selected = np.linalg.inv(K[selected, :][:, selected])
    return selected, [float(witness[c]) for c in selected]


def mmd_critic(x, n_protos, n_crit, gamma, reg):
    n = len(x)
    d = sqdist(x.astype(np.float64))
    if gamma == 0:
        iu = np.triu_indices(n, 1)
        med = np.median(d[iu]) if n > 1 else 0.0
        gamma = 1.0 / med if med > 0 else 1.0
    K = np.exp(-gamma * d)
    m = min(n_protos, n)
    protos, pscores, mmd2 = greedy_select_protos(K, m)
    c = min(n_crit, n - m)
    crits, cscores = select_criticism_regularized(K, protos, c, reg) if c > 0 else ([], [])
    return gamma, mmd2, [int(i) for i in protos], [float(s) for s in pscores], [int(i) for i in crits], cscores


def blobs(rng, n, d, k, spread):
    centres = rng.normal(0, 3, size=(k, d))
    lab = rng.integers(0, k, size=n)
    return (centres[lab] + rng.normal(0, spread, size=(n, d))).astype(np.float32)


def neighbours(x, q, k, exclude):
    # exact cosine top-k, ties by id (ids are zero-padded: index order is id order)
    xn = x.astype(np.float64)
    qn = q.astype(np.float64)
    norms = np.sqrt(np.sum(xn * xn, axis=1))
    qnorm = np.sqrt(np.sum(qn * qn))
    sims = []
    for i in range(len(x)):
        if i == exclude:
            continue
        s = 0.0 if norms[i] == 0 or qnorm == 0 else float(np.dot(xn[i], qn) / (norms[i] * qnorm))
        sims.append((-s, i, s))
    sims.sort()
    return [[i, s] for _, i, s in sims[:k]]


def main():
    rng = np.random.default_rng(20161205)
    cases = []
    specs = [
        # name, n, d, clusters, spread, protos, crits, gamma, reg
        ("tiny", 7, 2, 2, 0.5, 3, 2, 0.0, "logdet"),
        ("blobs-40", 40, 5, 3, 0.8, 6, 4, 0.0, "logdet"),
        ("blobs-120", 120, 16, 4, 1.0, 10, 5, 0.0, "logdet"),
        ("fixed-gamma", 60, 8, 3, 1.0, 5, 5, 0.05, "logdet"),
        ("no-regulariser", 60, 8, 3, 1.0, 5, 5, 0.0, "None"),
        ("more-than-n", 5, 3, 2, 1.0, 4, 3, 0.0, "logdet"),
    ]
    for name, n, d, k, spread, p, c, gamma, reg in specs:
        x = blobs(rng, n, d, k, spread)
        g, mmd2, protos, pscores, crits, cscores = mmd_critic(x, p, c, gamma, reg)
        ids = [f"ex-{i:04d}" for i in range(n)]
        q = int(rng.integers(0, n))
        cases.append({
            "name": name, "ids": ids, "x": x.tolist(), "prototypes": p, "criticisms": c,
            "gamma_in": gamma, "regularizer": "none" if reg == "None" else reg,
            "gamma": g, "mmd2": float(mmd2),
            "proto_index": protos, "proto_score": pscores,
            "crit_index": crits, "crit_score": cscores,
            "query": q, "k": 5, "neighbours": neighbours(x, x[q], 5, q),
        })

    # Duplicated points: criticisms must not repeat a point (log det -> -inf).
    x = blobs(rng, 30, 4, 2, 0.7)
    x = np.concatenate([x, x[:6]])
    g, mmd2, protos, pscores, crits, cscores = mmd_critic(x, 4, 5, 0.0, "logdet")
    n = len(x)
    cases.append({
        "name": "duplicates", "ids": [f"ex-{i:04d}" for i in range(n)], "x": x.tolist(), "prototypes": 4, "criticisms": 5,
        "gamma_in": 0.0, "regularizer": "logdet", "gamma": g, "mmd2": float(mmd2),
        "proto_index": protos, "proto_score": pscores, "crit_index": crits, "crit_score": cscores,
        "query": 0, "k": 5, "neighbours": neighbours(x, x[0], 5, 0),
    })

    out = pathlib.Path(__file__).resolve().parent.parent / "testdata" / "prototypes" / "mmdcritic_refs.json"
    out.write_text(json.dumps({"numpy": np.__version__, "python": sys.version.split()[0], "cases": cases}, indent=None) + "\n")
    print(f"wrote {out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
