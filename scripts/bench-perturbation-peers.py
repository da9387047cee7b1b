#!/usr/bin/env python3
"""Seconds per example of the peers' KernelSHAP, LIME and occlusion, each model call a real onnxruntime run.

The peers' side of scripts/bench-perturbation.sh; Glassbox's side is BenchmarkPerturbationTiming
(explainer/bench_perturbation_test.go), which writes the sentences with GLASSBOX_BENCH_DUMP: token ids,
attention mask, special-token flags, word ids and predicted class, tokenized by Glassbox. Every peer
scores through one onnxruntime session on the same model.onnx (intra-op threads --threads, inter-op 1),
in batches of --batch rows, f = softmax probability of the predicted class, absent players getting
attention_mask 0 and special tokens always present, as Glassbox's attention masking does:

  shap KernelExplainer   players = the non-special tokens; KernelExplainer(f, background = the empty
                         coalition), shap_values at its defaults (nsamples "auto" = 2n + 2048, capped at
                         2^n - 2; default l1_reg)
  captum KernelShap      the same players, baselines = the empty coalition, n_samples = --captum-samples
                         (the budget that reaches Glassbox's default error on the accuracy harness),
                         perturbations_per_eval = --batch
  lime LimeTextExplainer players = the words (Glassbox's word ids: a word's tokens are masked together);
                         the text handed to lime is one placeholder "w<j>" per word joined by spaces, so
                         lime's default split (r'\\W+', bow=True) yields exactly the words, each distinct;
                         classifier_fn maps the words present in each perturbed string to the attention
                         mask. LimeTextExplainer() defaults (kernel width 25, num_samples 5000), with
                         num_features = all words (Glassbox attributes every word) and labels = the class;
                         also at num_samples = --lime-rows (Glassbox's default rows, equal rows)
  captum FeatureAblation players = the non-special tokens, one at a time, baselines = the empty coalition
                         (attention-masked), at its default perturbations_per_eval=1 and at --batch

Only the explain calls are timed (time.perf_counter), one sentence at a time, after an untimed warm-up
of one batch of the first sentence; each method's pass over all sentences is repeated --repeats times and the fastest
is kept. Prints "PERF side=... method=... config=... sec_per_example=... evals=..." (evals: rows scored
per sentence, the peer's own f(x) and f(empty) included). With --table FILE..., prints instead one
markdown table from PERF lines (both sides; the minimum over the files' repeats of each row).

  .cache/pyenv-exports/bin/python scripts/bench-perturbation-peers.py --model .cache/bench/minilm-cls \\
      --sentences .cache/bench/perturbation-sentences.jsonl --captum-samples 4096 --lime-rows 1500
"""
import argparse
import fnmatch
import json
import os
import re
import sys
import time
import warnings

import numpy as np


def log(*a):
    print("[bench-perturbation-peers]", *a, file=sys.stderr, flush=True)


class Model:
    """f on attention masks of one sentence through onnxruntime, counting rows."""

    def __init__(self, sess, sent, batch):
        self.sess, self.batch = sess, batch
        self.ids = np.asarray(sent["input_ids"], dtype=np.int64)
        self.mask = np.asarray(sent["attention_mask"], dtype=np.int64)
        types = sent.get("token_type_ids")
        self.types = np.asarray(types if types else [0] * len(self.ids), dtype=np.int64)
        self.cls = sent["class"]
        self.names = [i.name for i in sess.get_inputs()]
        self.players = np.array([i for i, sp in enumerate(sent["special"]) if not sp])
        self.calls = 0

    def probs(self, masks):
        """Softmax probabilities of every class, one row per mask row."""
        masks = np.asarray(masks, dtype=np.int64)
        self.calls += masks.shape[0]
        out = []
        for lo in range(0, masks.shape[0], self.batch):
            mk = masks[lo:lo + self.batch]
            k = mk.shape[0]
            feed = {}
            for name in self.names:
                if name == "input_ids":
                    feed[name] = np.repeat(self.ids[None, :], k, axis=0)
                elif name == "attention_mask":
                    feed[name] = mk
                elif name == "token_type_ids":
                    feed[name] = np.repeat(self.types[None, :], k, axis=0)
                else:
                    raise SystemExit(f"model input {name!r} is not handled")
            logits = self.sess.run(None, feed)[0].astype(np.float64)
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            out.append(p / p.sum(axis=1, keepdims=True))
        return np.concatenate(out)

    def coalitions(self, z):
        """f on 0/1 rows over the non-special tokens."""
        z = np.asarray(z)
        if z.ndim == 1:
            z = z[None, :]
        mk = np.repeat(self.mask[None, :], z.shape[0], axis=0)
        mk[:, self.players] *= np.rint(z).astype(np.int64)
        return self.probs(mk)[:, self.cls]


def shap_default(m, sent):
    import shap

    n = len(m.players)
    ex = shap.KernelExplainer(m.coalitions, np.zeros((1, n)), link="identity")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex.shap_values(np.ones((1, n)), silent=True)


def captum_kernelshap(samples, batch):
    def run(m, sent):
        import torch
        from captum.attr import KernelShap

        n = len(m.players)
        ks = KernelShap(lambda z: torch.as_tensor(m.coalitions(z.detach().numpy()), dtype=torch.float64))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ks.attribute(torch.ones(1, n, dtype=torch.float64), baselines=torch.zeros(1, n, dtype=torch.float64),
                         n_samples=samples, perturbations_per_eval=batch)
    return run


def captum_ablation(per_eval):
    def run(m, sent):
        import torch
        from captum.attr import FeatureAblation

        n = len(m.players)
        fa = FeatureAblation(lambda z: torch.as_tensor(m.coalitions(z.detach().numpy()), dtype=torch.float64))
        fa.attribute(torch.ones(1, n, dtype=torch.float64), baselines=torch.zeros(1, n, dtype=torch.float64),
                     perturbations_per_eval=per_eval)
    return run


def lime_text(num_samples):
    def run(m, sent):
        from lime.lime_text import LimeTextExplainer

        # The words of the non-special tokens, in order; placeholder j stands for the j-th word.
        wids = [w for w, sp in zip(sent["word_ids"], sent["special"]) if not sp]
        words = list(dict.fromkeys(wids))
        tokens_of = [np.array([p for p, w in zip(m.players, wids) if w == word]) for word in words]
        text = " ".join(f"w{j}" for j in range(len(words)))

        def classifier_fn(strings):
            mk = np.repeat(m.mask[None, :], len(strings), axis=0)
            for r, s in enumerate(strings):
                present = set(s.split())
                for j, toks in enumerate(tokens_of):
                    if f"w{j}" not in present:
                        mk[r, toks] = 0
            return m.probs(mk)

        ex = LimeTextExplainer(random_state=1)
        ex.explain_instance(text, classifier_fn, labels=(m.cls,), num_features=len(words), num_samples=num_samples)
    return run


def captum_budget(acc_path):
    """The smallest Captum KernelShap budget of the accuracy harness's ACC lines whose rel L2 error is at
    most Glassbox's default's, or (no such budget) the largest one, with a label saying which."""
    recs = [dict(kv.split("=", 1) for kv in re.findall(r"\S+=\S+", l)) for l in open(acc_path) if l.startswith("ACC side=")]
    g = next(d for d in recs if d["side"] == "glassbox" and d["method"] == "kernelshap" and d["budget"] == "default")
    cap = sorted((int(d["budget"]), float(d["rel_l2"])) for d in recs
                 if d["side"] == "captum" and d["budget"].isdigit())
    ok = [(b, e) for b, e in cap if e <= float(g["rel_l2"])]
    b, e = ok[0] if ok else cap[-1]
    how = "equal-error" if ok else "largest-budget"
    return b, f",{how},rel_l2={e:.3g},glassbox_rel_l2={float(g['rel_l2']):.3g}"


def print_table(paths):
    recs = {}
    for path in paths:
        for line in open(path):
            if not line.startswith("PERF side="):
                continue
            d = dict(kv.split("=", 1) for kv in re.findall(r"\S+=\S+", line))
            key = (d["side"], d["method"], d["config"])
            if key not in recs or float(d["sec_per_example"]) < float(recs[key]["sec_per_example"]):
                recs[key] = d
    label = {"glassbox": "Glassbox", "shap": "SHAP", "captum": "Captum", "lime": "lime"}
    rows = [  # (method, Glassbox config, peer side, peer method, peer config)
        ("KernelSHAP", "default", "shap", "kernelexplainer", "default"),
        ("KernelSHAP", "default", "captum", "kernelshap", None),
        ("LIME", "default", "lime", "limetext", "default"),
        ("LIME", "default", "lime", "limetext", "equal-rows"),
        ("LIME", "rows=5000", "lime", "limetext", "default"),
        ("occlusion", "default", "captum", "featureablation", "per_eval=1"),
        ("occlusion", "default", "captum", "featureablation", None),
    ]
    print("| method | Glassbox | s/example | evals | peer | s/example | evals | peer / Glassbox time |")
    print("|---|---|---|---|---|---|---|---|")
    for method, gcfg, side, pm, pcfg in rows:
        g = recs.get(("glassbox", method.lower(), gcfg))
        cands = [d for (s, m, c), d in recs.items() if s == side and m == pm and (pcfg is None and c not in
                 ("per_eval=1",) or c == pcfg)]
        if g is None and gcfg != "default":
            continue  # an optional Glassbox row (GLASSBOX_BENCH_LIME5000) that was not run
        for p in cands:
            gs = f"{float(g['sec_per_example']):.3f} | {float(g['evals']):.0f}" if g else " | "
            ratio = f"{float(p['sec_per_example']) / float(g['sec_per_example']):.2f}x" if g else ""
            print(f"| {method} | {gcfg} | {gs} | {label[side]} {pm} {p['config']} | "
                  f"{float(p['sec_per_example']):.3f} | {float(p['evals']):.0f} | {ratio} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=".cache/bench/minilm-cls")
    ap.add_argument("--sentences", default=".cache/bench/perturbation-sentences.jsonl")
    ap.add_argument("--captum-samples", type=int, default=2048)
    ap.add_argument("--captum-from", help="the accuracy harness's ACC lines: take --captum-samples from them (captum_budget)")
    ap.add_argument("--lime-rows", type=int, default=0, help="Glassbox LIME's mean rows (0: skip equal rows)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated method=config patterns (fnmatch) to run (default all)")
    ap.add_argument("--table", nargs="+", help="print the markdown table of these PERF files and exit")
    args = ap.parse_args()
    if args.table:
        print_table(args.table)
        return

    import captum
    import lime
    import lime.lime_text  # noqa: F401 (imported before timing)
    import onnxruntime as ort
    import shap
    import torch

    torch.set_num_threads(args.threads)
    log(f"shap {shap.__version__}, captum {captum.__version__}, lime {getattr(lime, '__version__', '?')}, "
        f"torch {torch.__version__}, onnxruntime {ort.__version__}")
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(os.path.join(args.model, "model.onnx"), so, providers=["CPUExecutionProvider"])
    sents = [json.loads(line) for line in open(args.sentences)]

    label = ""
    if args.captum_from:
        args.captum_samples, label = captum_budget(args.captum_from)
    cs = f"n_samples={args.captum_samples}{label}"
    runs = [("shap", "kernelexplainer", "default", shap_default),
            ("captum", "kernelshap", cs, captum_kernelshap(args.captum_samples, args.batch)),
            ("lime", "limetext", "default", lime_text(5000))]
    if args.lime_rows:
        runs.append(("lime", "limetext", "equal-rows", lime_text(args.lime_rows)))
    runs += [("captum", "featureablation", "per_eval=1", captum_ablation(1)),
             ("captum", "featureablation", f"per_eval={args.batch}", captum_ablation(args.batch))]
    only = set(filter(None, args.only.split(",")))
    for side, method, config, fn in runs:
        if only and not any(fnmatch.fnmatchcase(f"{method}={config}", o) for o in only):
            continue
        w = Model(sess, sents[0], args.batch)  # warm-up: onnxruntime's first runs allocate
        w.probs(np.repeat(w.mask[None, :], args.batch, axis=0))
        best, evals = float("inf"), 0
        for _ in range(args.repeats):
            secs, evals = 0.0, 0
            for s in sents:
                m = Model(sess, s, args.batch)
                t0 = time.perf_counter()
                fn(m, s)
                secs += time.perf_counter() - t0
                evals += m.calls
            best = min(best, secs)
        k = len(sents)
        print(f"PERF side={side} method={method} config={config} sec_per_example={best / k:.6g} "
              f"evals={evals / k:.1f}", flush=True)


if __name__ == "__main__":
    main()
