#!/usr/bin/env python3
"""Writes scipy references for the audit package's rank statistics.

Why: audit's Go tests check Spearman's rho (average ranks), Kendall's tau-b
and top-k overlap against scipy, which defines them for method agreement and
the sanity check. Tests never run Python, so this script computes the
references once and the JSON is committed.

Run: .cache/pyenv-exports/bin/python scripts/rank_refs.py
(numpy, scipy; writes testdata/audit/rank_refs.json).

Cases: seeded vectors of lengths 2..300 without ties, with many ties
(values rounded to a coarse grid, as saliency and occlusion give on
repeated tokens), with one constant vector (undefined: null), and
hand-written small cases. For each: spearman = scipy.stats.spearmanr,
kendall_tau_b = scipy.stats.kendalltau(variant="b"), topk_overlap with
k = min(5, n): the k largest by value, ties by position (a stable sort of
-v), |top(a) & top(b)| / k.
"""
import json
import math
import pathlib

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20181015)
cases = []


def add(name, a, b):
    a = [float(x) for x in a]
    b = [float(x) for x in b]
    n = len(a)
    with np.errstate(all="ignore"):
        rho = stats.spearmanr(a, b).statistic
        tau = stats.kendalltau(a, b, variant="b").statistic
    k = min(5, n)
    ta = set(np.argsort(-np.asarray(a), kind="stable")[:k].tolist())
    tb = set(np.argsort(-np.asarray(b), kind="stable")[:k].tolist())
    cases.append({
        "name": name, "a": a, "b": b,
        "spearman": None if math.isnan(rho) else float(rho),
        "kendall_tau_b": None if math.isnan(tau) else float(tau),
        "k": k, "topk_overlap": len(ta & tb) / k,
    })


add("identical", [1, 2, 3, 4], [1, 2, 3, 4])
add("reversed", [1, 2, 3, 4], [4, 3, 2, 1])
add("ties_both", [1, 1, 2, 2, 3], [1, 2, 2, 3, 3])
add("constant", [1, 1, 1], [1, 2, 3])
add("two", [0.5, -0.5], [-1, 1])
add("ties_topk", [0, 0, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0, 0])
for n in [3, 7, 12, 40, 128, 300]:
    a = rng.normal(size=n)
    b = 0.6 * a + 0.8 * rng.normal(size=n)
    add(f"normal_{n}", a, b)
    add(f"ties_{n}", np.round(a * 2) / 2, np.round(b))
    add(f"sparse_{n}", np.where(rng.random(n) < 0.7, 0.0, a), np.abs(b))

out = {
    "generator": "scripts/rank_refs.py",
    "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
    "cases": cases,
}
path = pathlib.Path(__file__).resolve().parent.parent / "testdata" / "audit" / "rank_refs.json"
path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
print(f"wrote {len(cases)} cases to {path}")
