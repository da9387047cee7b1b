#!/usr/bin/env python3
"""KernelSHAP accuracy of SHAP's KernelExplainer and Captum's KernelShap against exact Shapley values.

Reads the sentences that BenchmarkKernelSHAPAccuracy (explainer/bench_accuracy_test.go) wrote with
GLASSBOX_BENCH_DUMP: the token ids, attention mask, special-token flags and predicted class of each,
and Glassbox's exact Shapley values. With onnxruntime on the same model.onnx it scores every one of
the 2^n coalitions of the non-special tokens (absent tokens get attention_mask 0, special tokens are
always present; f = softmax probability of the predicted class), computes the exact Shapley values by
enumeration (and checks them against Glassbox's), then runs the peers with that f:

  shap   KernelExplainer(f, background = the empty coalition), nsamples at each budget and "auto"
         (2n + 2048), with shap's default l1_reg ("num_features(10)" in shap 0.51) and with l1_reg=False
  captum KernelShap(f) with baselines = the empty coalition, n_samples at each budget and its default 25

The peers call f on 0/1 coalition rows; f looks each row up in the table of the 2^n onnxruntime
scores (the same values a model call would give, so runs take seconds) and counts the rows: that count
is "evals", every model evaluation a peer asked for, its own f(x) and f(empty) included. Error is the
mean over sentences of ||phi - phi*|| / ||phi*|| (rel_l2) and of max |phi_i - phi*_i| (max_abs).
Prints "ACC side=... method=... budget=... evals=... rel_l2=... max_abs=..." lines and, with
--go-results (the Go benchmark's output), one markdown table of both sides.

  scripts/bench-accuracy.sh runs both sides; this script alone:
  .cache/pyenv-exports/bin/python scripts/bench-shapley-peers.py --model testdata/models/distilbert-sentiment \
      --sentences .cache/bench/accuracy-sentences.jsonl [--go-results .cache/bench/accuracy-go.txt]
"""
import argparse
import json
import math
import os
import re
import sys
import warnings

import numpy as np
import onnxruntime as ort

BUDGETS = [32, 64, 128, 256, 512, 1024, 2048]


def log(*a):
    print("[bench-shapley-peers]", *a, file=sys.stderr, flush=True)


def coalition_table(sess, sent, batch=512):
    """f of every coalition s (bit p set = the p-th non-special token present), by onnxruntime."""
    ids = np.asarray(sent["input_ids"], dtype=np.int64)
    mask = np.asarray(sent["attention_mask"], dtype=np.int64)
    types = sent.get("token_type_ids")
    players = [i for i, sp in enumerate(sent["special"]) if not sp]
    n = len(players)
    names = [i.name for i in sess.get_inputs()]
    m = 1 << n
    out = np.empty(m)
    bits = (np.arange(m)[:, None] >> np.arange(n)[None, :]) & 1
    for lo in range(0, m, batch):
        hi = min(m, lo + batch)
        mk = np.repeat(mask[None, :], hi - lo, axis=0)
        mk[:, players] = mk[:, players] * bits[lo:hi]
        feed = {}
        for name in names:
            if name == "input_ids":
                feed[name] = np.repeat(ids[None, :], hi - lo, axis=0)
            elif name == "attention_mask":
                feed[name] = mk
            elif name == "token_type_ids":
                t = np.asarray(types if types else [0] * len(ids), dtype=np.int64)
                feed[name] = np.repeat(t[None, :], hi - lo, axis=0)
            else:
                raise SystemExit(f"model input {name!r} is not handled")
        logits = sess.run(None, feed)[0].astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        out[lo:hi] = p[:, sent["class"]]
    return out


def exact_shapley(v, n):
    s = np.arange(1 << n)
    size = np.array([bin(x).count("1") for x in s])
    w = np.array([math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)])
    phi = np.zeros(n)
    for p in range(n):
        without = s[(s >> p) & 1 == 0]
        phi[p] = np.sum(w[size[without]] * (v[without | (1 << p)] - v[without]))
    return phi


class Counted:
    """f on 0/1 coalition rows, looked up in the onnxruntime table, counting rows."""

    def __init__(self, table, n):
        self.table, self.weights, self.calls = table, 1 << np.arange(n), 0

    def __call__(self, z):
        z = np.asarray(z)
        if z.ndim == 1:
            z = z[None, :]
        self.calls += z.shape[0]
        idx = (np.rint(z).astype(np.int64) * self.weights).sum(axis=1)
        return self.table[idx]


def errors(phi, exact):
    phi = np.asarray(phi, dtype=np.float64).reshape(-1)
    return float(np.linalg.norm(phi - exact) / np.linalg.norm(exact)), float(np.max(np.abs(phi - exact)))


def run_shap(table, n, budget, l1_reg, seed):
    import shap

    f = Counted(table, n)
    np.random.seed(seed)
    ex = shap.KernelExplainer(f, np.zeros((1, n)), link="identity")
    kw = {"silent": True, "l1_reg": l1_reg}
    if budget != "auto":
        kw["nsamples"] = budget
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        phi = ex.shap_values(np.ones((1, n)), **kw)
    return np.asarray(phi).reshape(-1)[:n], f.calls


def run_captum(table, n, budget, seed):
    import torch
    from captum.attr import KernelShap

    f = Counted(table, n)

    def forward(z):
        return torch.as_tensor(f(z.detach().cpu().numpy()), dtype=torch.float64)

    torch.manual_seed(seed)
    ks = KernelShap(forward)
    x = torch.ones(1, n, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        phi = ks.attribute(x, baselines=torch.zeros(1, n, dtype=torch.float64), n_samples=budget,
                           perturbations_per_eval=min(budget, 256))
    return phi.detach().numpy().reshape(-1), f.calls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="testdata/models/distilbert-sentiment")
    ap.add_argument("--sentences", default=".cache/bench/accuracy-sentences.jsonl")
    ap.add_argument("--go-results", help="the Go benchmark's output (its ACC lines) for the merged table")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import captum
    import shap
    import torch

    torch.set_num_threads(args.threads)
    log(f"shap {shap.__version__}, captum {captum.__version__}, torch {torch.__version__}, onnxruntime {ort.__version__}")
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(os.path.join(args.model, "model.onnx"), so, providers=["CPUExecutionProvider"])
    sents = [json.loads(line) for line in open(args.sentences)]

    runs = []  # (side, method, budget label, fn(table, n) -> (phi, calls))
    for l1, side in (("num_features(10)", "shap"), (False, "shap-l1off")):
        for b in BUDGETS + ["auto", "exact"]:
            runs.append((side, "kernelexplainer", "default" if b == "auto" else str(b),
                         lambda t, n, b=b, l1=l1: run_shap(t, n, (1 << n) - 2 if b == "exact" else b, l1, args.seed)))
    for b in BUDGETS + [25]:
        runs.append(("captum", "kernelshap", "default" if b == 25 else str(b),
                     lambda t, n, b=b: run_captum(t, n, b, args.seed)))

    acc = {i: [0.0, 0.0, 0.0, 0.0] for i in range(len(runs))}
    worst_check = 0.0
    for si, s in enumerate(sents):
        n = s["n_players"]
        table = coalition_table(sess, s)
        exact = exact_shapley(table, n)
        worst_check = max(worst_check, float(np.max(np.abs(exact - np.asarray(s["exact_shapley"])))))
        for i, (_, _, _, fn) in enumerate(runs):
            phi, calls = fn(table, n)
            rel, mx = errors(phi, exact)
            a = acc[i]
            a[0] += rel
            a[1] += mx
            a[2] = max(a[2], mx)
            a[3] += calls
        log(f"sentence {si + 1}/{len(sents)} ({s['id']}, n={n}) done")
    log(f"exact Shapley, onnxruntime in Python against Glassbox: max |difference| {worst_check:.3g}")
    k = len(sents)
    rows = []
    for i, (side, method, label, _) in enumerate(runs):
        a = acc[i]
        line = (f"ACC side={side} method={method} budget={label} evals={a[3] / k:.1f} "
                f"rel_l2={a[0] / k:.6g} max_abs={a[1] / k:.6g} max_abs_all={a[2]:.6g}")
        print(line, flush=True)
        rows.append(line)
    print(f"ACC check exact_python_vs_go_max_abs={worst_check:.3g}")
    if args.go_results:
        rows = [l.strip() for l in open(args.go_results) if l.startswith("ACC side=")] + rows
        print_table(rows)


def print_table(lines):
    """The DEVELOPERS.md table: per budget, each side's mean evaluations, rel L2 / max abs error."""
    recs = [dict(kv.split("=", 1) for kv in re.findall(r"\S+=\S+", line)) for line in lines]
    cols = [("glassbox", "kernelshap", "Glassbox KernelSHAP"),
            ("shap", "kernelexplainer", "SHAP KernelExplainer (default l1_reg)"),
            ("shap-l1off", "kernelexplainer", "SHAP KernelExplainer, l1_reg=False"),
            ("captum", "kernelshap", "Captum KernelShap")]
    print()
    print("| budget | " + " | ".join(c[2] for c in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    labels = [str(b) for b in BUDGETS] + ["default"]
    labels += [d["budget"] for d in recs if d["side"] == "glassbox" and d["method"] == "kernelshap"
               and d["budget"] not in labels + ["exact"]]
    for b in labels + ["exact"]:
        cells = []
        for s, m, _ in cols:
            d = next((d for d in recs if d["side"] == s and d["method"] == m and d["budget"] == b), None)
            cells.append("" if d is None else
                         f"{float(d['evals']):.0f} evals: {float(d['rel_l2']):.3g} / {float(d['max_abs']):.2g}")
        print(f"| {b} | " + " | ".join(cells) + " |")
    gd = next((d for d in recs if d["side"] == "glassbox" and d["method"] == "kernelshap" and d["budget"] == "default"), None)
    sd = next((d for d in recs if d["side"] == "shap" and d["budget"] == "default"), None)
    if gd and sd:
        print()
        print(f"Defaults: Glassbox KernelSHAP spends {float(gd['evals']) / float(sd['evals']):.3f}x SHAP KernelExplainer's "
              f"model evaluations ({float(gd['evals']):.0f} vs {float(sd['evals']):.0f}) for "
              f"{float(gd['rel_l2']) / float(sd['rel_l2']):.3f}x its rel L2 error "
              f"({float(gd['rel_l2']):.3g} vs {float(sd['rel_l2']):.3g}).")
    ref = [d for d in recs if d["method"] == "occlusion"]
    if ref:
        print()
        print("Reference (other quantities): " + "; ".join(
            f"{d['method']} {d['budget']}: {float(d['evals']):.0f} evals, {float(d['rel_l2']):.3g} / {float(d['max_abs']):.2g}"
            for d in ref) + ".")
    lime = [d for d in recs if d["method"] == "lime-vs-20000"]
    if lime:
        print()
        print("LIME against a 20,000-row LIME fit (its own quantity): " + "; ".join(
            f"{d['budget']}: {float(d['evals']):.0f} evals, {float(d['rel_l2']):.3g} / {float(d['max_abs']):.2g}"
            for d in lime) + ".")


if __name__ == "__main__":
    main()
