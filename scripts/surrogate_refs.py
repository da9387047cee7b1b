#!/usr/bin/env python3
"""Writes scikit-learn reference fits for the surrogate package's tests.

Why: surrogate's Go tests check that the mergeable-accumulator fits equal
scikit-learn's estimators, which define the surrogates in
../shared/conventions.md ("Surrogates"). Tests never run Python, so this
script computes the references once and the JSON is committed.

Data (seeded numpy RNG, n=300 rows, p=25 features):
  * x_bin: binary bag-of-words-like presence features (per-feature rates
    0.05-0.5); x_cnt: word counts (Poisson, per-feature means 0.1-1.5).
  * y_reg / y_reg_cnt: regression targets, linear in the features plus noise.
  * y_bin: a binary label (logistic in x_bin); y_multi: a 3-class label
    (argmax of linear scores plus Gumbel noise, x_bin); y_multi_cnt likewise
    on x_cnt.

References:
  * ridge, ridge_cnt: Ridge(alpha=1.0) on (x_bin, y_reg), (x_cnt, y_reg_cnt).
  * elasticnet: ElasticNet(alpha=0.02, l1_ratio=0.5, tol=1e-14) on
    (x_bin, y_reg).
  * logistic_bin, logistic_multi: LogisticRegression(C=1.0, tol=1e-12,
    max_iter=10000, solver="newton-cholesky") (multinomial for 3 classes) on
    (x_bin, y_bin) and (x_bin, y_multi): coef, intercept and predict_proba on
    the data; lbfgs_coef, lbfgs_intercept from the default lbfgs solver with
    the same settings. Both minimise the same objective, but lbfgs stops on
    scipy's ftol (64 machine epsilons of relative decrease) about 1e-6 short
    of the optimum, so the tight reference is newton-cholesky's; the script
    prints the largest difference. The raw sklearn intercepts are exported
    (multinomial ones are determined only up to a common constant; sklearn's
    sum to 0).
  * tree_clf (x_bin, y_bin), tree_clf_cnt (x_cnt, y_multi_cnt):
    DecisionTreeClassifier(criterion="gini", max_depth=4, min_samples_leaf=20,
    random_state=0); tree_reg (x_bin, y_reg), tree_reg_cnt (x_cnt, y_reg_cnt):
    DecisionTreeRegressor(max_depth=4, min_samples_leaf=20, random_state=0).
    Nodes in sklearn order: feature (-1 at leaves), threshold, left, right,
    n (n_node_samples), counts (classification: rows per class, from
    decision_path) or value (regression: mean target), impurity.
    sklearn breaks ties in gain by its random feature order, Glassbox by the
    lower feature index, so the script recomputes every candidate split of
    every node and reseeds the data until each node's best split is unique
    (relative margin 1e-9).

Run with the exports environment (numpy, scikit-learn 1.9.1):
  .cache/pyenv-exports/bin/python scripts/surrogate_refs.py
Output: testdata/surrogate/sklearn_refs.json. Deterministic: a rerun writes
the same bytes.
"""

import json
import os

import numpy as np
import sklearn
from sklearn.linear_model import ElasticNet, LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

N, P = 300, 25
MAX_DEPTH, MIN_LEAF = 4, 20
OUT = os.path.join(os.path.dirname(__file__), "..", "testdata", "surrogate", "sklearn_refs.json")


def make_data(seed):
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.05, 0.5, P)
    x_bin = (rng.random((N, P)) < rates).astype(np.int64)
    x_cnt = rng.poisson(rng.uniform(0.1, 1.5, P), size=(N, P)).astype(np.int64)
    w = rng.normal(0, 1, P) * (rng.random(P) < 0.6)
    y_reg = 0.3 + x_bin @ w + 0.5 * rng.normal(size=N)
    y_reg_cnt = -0.2 + x_cnt @ (0.5 * w) + 0.5 * rng.normal(size=N)
    z = x_bin @ w
    y_bin = (rng.random(N) < 1 / (1 + np.exp(-(z - z.mean())))).astype(np.int64)
    w3 = rng.normal(0, 1, (P, 3))
    y_multi = np.argmax(x_bin @ w3 + rng.gumbel(size=(N, 3)), axis=1).astype(np.int64)
    y_multi_cnt = np.argmax(x_cnt @ (0.6 * w3) + rng.gumbel(size=(N, 3)), axis=1).astype(np.int64)
    return dict(x_bin=x_bin, x_cnt=x_cnt, y_reg=y_reg, y_reg_cnt=y_reg_cnt,
                y_bin=y_bin, y_multi=y_multi, y_multi_cnt=y_multi_cnt)


def proxies(x, y, classify, n_classes):
    """Every valid candidate split of the rows (x, y): (proxy, feature, threshold)."""
    out = []
    for f in range(x.shape[1]):
        vals = np.unique(x[:, f])
        for a, b in zip(vals[:-1], vals[1:]):
            left = x[:, f] <= (a + b) / 2
            nl, nr = left.sum(), (~left).sum()
            if nl < MIN_LEAF or nr < MIN_LEAF:
                continue
            if classify:
                cl = np.bincount(y[left], minlength=n_classes).astype(float)
                cr = np.bincount(y[~left], minlength=n_classes).astype(float)
                pr = (cl ** 2).sum() / nl + (cr ** 2).sum() / nr
            else:
                pr = y[left].sum() ** 2 / nl + y[~left].sum() ** 2 / nr
            out.append((pr, f, (a + b) / 2))
    return out


def tree_ties(est, x, y, classify, n_classes):
    """The number of split nodes whose best candidate is not unique."""
    t = est.tree_
    paths = est.decision_path(x).toarray().astype(bool)
    bad = 0
    for node in range(t.node_count):
        if t.children_left[node] < 0:
            continue
        rows = paths[:, node]
        cands = sorted(proxies(x[rows], y[rows], classify, n_classes), key=lambda c: -c[0])
        best = cands[0]
        if best[1] != t.feature[node] or best[2] != float(np.float32(t.threshold[node])):
            raise SystemExit(f"recomputed best split {best} differs from sklearn's node {node}")
        if len(cands) > 1 and cands[1][0] >= best[0] - 1e-9 * abs(best[0]):
            bad += 1
    return bad


def export_tree(est, x, y, classify, n_classes):
    t = est.tree_
    paths = est.decision_path(x).toarray().astype(bool)
    nodes = []
    for i in range(t.node_count):
        leaf = t.children_left[i] < 0
        node = {
            "feature": -1 if leaf else int(t.feature[i]),
            "threshold": 0.0 if leaf else float(t.threshold[i]),
            "left": int(t.children_left[i]),
            "right": int(t.children_right[i]),
            "n": int(t.n_node_samples[i]),
            "impurity": float(t.impurity[i]),
        }
        if classify:
            node["counts"] = np.bincount(y[paths[:, i]], minlength=n_classes).tolist()
        else:
            node["value"] = float(t.value[i][0][0])
        nodes.append(node)
    return nodes


def fit_trees(d):
    specs = {
        "tree_clf": (DecisionTreeClassifier, "x_bin", "y_bin", True, 2),
        "tree_clf_cnt": (DecisionTreeClassifier, "x_cnt", "y_multi_cnt", True, 3),
        "tree_reg": (DecisionTreeRegressor, "x_bin", "y_reg", False, 0),
        "tree_reg_cnt": (DecisionTreeRegressor, "x_cnt", "y_reg_cnt", False, 0),
    }
    out, ties = {}, 0
    for name, (cls, xk, yk, classify, k) in specs.items():
        kw = {"criterion": "gini"} if classify else {}
        est = cls(max_depth=MAX_DEPTH, min_samples_leaf=MIN_LEAF, random_state=0, **kw)
        est.fit(d[xk], d[yk])
        ties += tree_ties(est, d[xk], d[yk], classify, k)
        out[name] = {"x": xk, "y": yk, "classes": k, "max_depth": MAX_DEPTH,
                     "min_samples_leaf": MIN_LEAF, "nodes": export_tree(est, d[xk], d[yk], classify, k)}
    return out, ties


def logistic(x, y):
    kw = dict(C=1.0, tol=1e-12, max_iter=10000)
    lbfgs = LogisticRegression(**kw).fit(x, y)
    newton = LogisticRegression(solver="newton-cholesky", **kw).fit(x, y)

    def centred(b):
        return b - b.mean() if len(b) > 1 else b

    diff = max(np.abs(lbfgs.coef_ - newton.coef_).max(),
               np.abs(centred(lbfgs.intercept_) - centred(newton.intercept_)).max())
    print(f"  lbfgs vs newton-cholesky: max |Δ| = {diff:.3g}; "
          f"intercept sums {lbfgs.intercept_.sum():.3g}, {newton.intercept_.sum():.3g}")
    return {"alpha": 1.0, "coef": newton.coef_.tolist(), "intercept": newton.intercept_.tolist(),
            "proba": newton.predict_proba(x).tolist(),
            "lbfgs_coef": lbfgs.coef_.tolist(), "lbfgs_intercept": lbfgs.intercept_.tolist()}


def main():
    for seed in range(100):
        d = make_data(seed)
        trees, ties = fit_trees(d)
        if ties == 0:
            break
        print(f"seed {seed}: {ties} tied best splits, reseeding")
    else:
        raise SystemExit("no tie-free seed found")
    print(f"seed {seed}")
    out = {"sklearn": sklearn.__version__, "seed": seed, "n": N, "p": P}
    out.update({k: v.tolist() for k, v in d.items()})
    for name, xk, yk in (("ridge", "x_bin", "y_reg"), ("ridge_cnt", "x_cnt", "y_reg_cnt")):
        est = Ridge(alpha=1.0).fit(d[xk], d[yk])
        out[name] = {"x": xk, "y": yk, "alpha": 1.0, "coef": est.coef_.tolist(),
                     "intercept": float(est.intercept_)}
    en = ElasticNet(alpha=0.02, l1_ratio=0.5, tol=1e-14, max_iter=1000000).fit(d["x_bin"], d["y_reg"])
    out["elasticnet"] = {"x": "x_bin", "y": "y_reg", "alpha": 0.02, "l1_ratio": 0.5,
                         "coef": en.coef_.tolist(), "intercept": float(en.intercept_)}
    print("logistic binary")
    out["logistic_bin"] = {"x": "x_bin", "y": "y_bin", "classes": 2, **logistic(d["x_bin"], d["y_bin"])}
    print("logistic multinomial")
    out["logistic_multi"] = {"x": "x_bin", "y": "y_multi", "classes": 3, **logistic(d["x_bin"], d["y_multi"])}
    out.update(trees)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
