#!/usr/bin/env python3
"""Writes faithfulness goldens for the faithfulness and explainer Go tests.

Why: Glassbox's faithfulness metrics (shared/conventions.md, "Faithfulness";
schemas/README.md) must equal ferret's implementations (PyPI ferret-xai) on the
same model, text and attributions. Tests never run Python, so this script
computes the references once and the JSON is committed.

What ferret does (ferret-xai 0.4.2, evaluators/faithfulness_measures.py,
AOPC_Comprehensiveness_Evaluation / AOPC_Sufficiency_Evaluation): it drops
[CLS]/[SEP] (remove_first_last), picks the top tokens by signed score
(numpy argsort, descending; only_pos=True by default keeps only positive
scores), by default with based_on="perc": floor(p·n) tokens, a threshold that
rounds to 0 tokens is skipped, and a rationale equal to the previous one is
left out of the mean; then by default it *deletes* the tokens
(remove_tokens=True), or with remove_tokens=False replaces them by
[MASK]; either way it decodes the ids to text and scores the re-tokenized
text. comprehensiveness = p(x) − p(x without the rationale), sufficiency =
p(x) − p(only the rationale), probabilities after softmax.

Glassbox's definitions differ in rounding (ceil(k·n/100), at least one token),
sign (all tokens ranked, negative ones last), the mean (all five k) and
removal (the run's masking, never deletion, so positions stay). The
configuration of ferret that computes exactly Glassbox's per-k values under
masking: replace is: remove_tokens=False ([MASK] = the mask token Glassbox
replaces with), every token a candidate (only_pos=False; see ferret_values
for why the script passes shifted, all-positive scores with only_pos=True
instead), based_on="k" with the single threshold c(k)
= ceil(k·n/100), one k per call (so no k is skipped or merged); AOPC is then
the mean of the five per-k values. ferret re-tokenizes decoded text, so the
texts here are whole-word tokens only, and the script asserts that every
masked text re-tokenizes to exactly the masked ids. Ties: numpy's argsort
order is not Glassbox's (earlier token first), so ferret cases have distinct
attributions.

ferret cannot express attention masking (it works on text), so every case
also has an independent numpy computation of the convention's definitions
(both maskings, with the deletion/insertion AUCs), scoring each perturbed
input alone with onnxruntime.

Model: testdata/models/distilbert-sentiment (model.onnx through onnxruntime,
wrapped as the Hugging Face model ferret expects; its tokenizer through
transformers). Attributions: seeded numpy normals (one case has ties, numpy
only).

Environment: ferret-xai is installed without its dependencies (it needs only
numpy, scipy, torch, transformers and tqdm for these evaluators, all in the
exports environment) in .cache/pyenv-ferret, a venv whose site-packages
links .cache/pyenv-exports':
  python -m venv .cache/pyenv-ferret   # with .cache/pyenv-exports/bin/python
  echo $PWD/.cache/pyenv-exports/lib/python3.11/site-packages \
    > .cache/pyenv-ferret/lib/python3.11/site-packages/exports.pth
  .cache/pyenv-ferret/bin/pip install --no-deps ferret-xai==0.4.2
  .cache/pyenv-ferret/bin/python scripts/faithfulness_refs.py
Output: testdata/faithfulness/ferret_refs.json. Deterministic.
"""

import importlib.util
import json
import math
import os
import sys
import types

import numpy as np
import onnxruntime as ort
import torch
import transformers
from transformers import AutoTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL = os.path.join(ROOT, "testdata", "models", "distilbert-sentiment")
OUT = os.path.join(ROOT, "testdata", "faithfulness", "ferret_refs.json")
KS = [1, 5, 10, 20, 50]
STEPS = 50


def import_ferret_evaluators():
    """Imports ferret's faithfulness evaluators without ferret/__init__.py,
    which imports every explainer and dataset (shap, lime, datasets, ...)."""
    spec = importlib.util.find_spec("ferret")
    pkg = types.ModuleType("ferret")
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules["ferret"] = pkg
    from ferret.evaluators import faithfulness_measures as fm

    from importlib.metadata import version

    return fm, version("ferret-xai")


class OrtModel:
    """The distilbert-sentiment ONNX graph as ferret's ModelHelper calls a
    Hugging Face model: model(input_ids=..., attention_mask=...).logits."""

    device = torch.device("cpu")

    def __init__(self, path):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

    def logits(self, ids, mask):
        out = self.sess.run(["logits"], {"input_ids": np.asarray(ids, dtype=np.int64), "attention_mask": np.asarray(mask, dtype=np.int64)})
        return out[0]

    def __call__(self, input_ids, attention_mask, **_):
        return types.SimpleNamespace(logits=torch.from_numpy(self.logits(input_ids.numpy(), attention_mask.numpy())))


def prob(model, ids, mask, target):
    """f: the target's softmax probability (float64) from one input alone."""
    z = model.logits([ids], [mask])[0].astype(np.float64)
    z = z - z.max()
    e = np.exp(z)
    return float(e[target] / e.sum())


def kcount(k, n):
    return (k * n + 99) // 100


def schedule(n):
    if n <= STEPS:
        return list(range(n + 1))
    return [(j * n + STEPS - 1) // STEPS for j in range(STEPS + 1)]


def reference(model, ids, special, attr, target, masking, mask_id):
    """The convention's definitions, computed plainly."""
    units = [i for i in range(len(ids)) if not special[i]]
    n = len(units)
    # Rank by signed attribution, largest first; ties: earlier position first.
    order = sorted(range(n), key=lambda p: (-attr[units[p]], p))

    def f_present(present):
        x, m = list(ids), [1] * len(ids)
        for p, keep in enumerate(present):
            if not keep:
                if masking == "replace":
                    x[units[p]] = mask_id
                else:
                    m[units[p]] = 0
        return prob(model, x, m, target)

    def without_top(c):
        top = set(order[:c])
        return f_present([p not in top for p in range(n)])

    def only_top(c):
        top = set(order[:c])
        return f_present([p in top for p in range(n)])

    full = f_present([True] * n)
    cs = [kcount(k, n) for k in KS]
    comp = [full - without_top(c) for c in cs]
    suff = [full - only_top(c) for c in cs]
    ms = schedule(n)
    dele = [without_top(m) for m in ms]
    ins = [only_top(m) for m in ms]
    auc = lambda ys: sum((ms[j] - ms[j - 1]) / n * (ys[j - 1] + ys[j]) / 2 for j in range(1, len(ms)))
    return {
        "full": full, "empty": f_present([False] * n), "k_tokens": cs,
        "comprehensiveness": comp, "sufficiency": suff,
        "aopc_comprehensiveness": float(np.mean(comp)), "aopc_sufficiency": float(np.mean(suff)),
        "deletion_auc": auc(dele), "insertion_auc": auc(ins),
    }


def ferret_values(fm, model, tok, text, tokens, attr, target, n):
    """ferret's comprehensiveness and sufficiency at each c(k), one k per call,
    configured to Glassbox's semantics under replace masking."""
    helper_cls = fm.AOPC_Comprehensiveness_Evaluation
    comp_eval = helper_cls(model, tok)
    suff_eval = fm.AOPC_Sufficiency_Evaluation(model, tok)
    # ferret 0.4.2's only_pos=False path fails under numpy 2 (`id_top_k == []`
    # on an array), so ferret gets the attributions shifted to be all positive
    # (same order, same argsort) with only_pos=True, which then keeps them all.
    a = np.array(attr, dtype=np.float64)
    shifted = a - a[1:-1].min() + 1.0
    assert (np.argsort(shifted[1:-1]) == np.argsort(a[1:-1])).all()
    expl = fm.Explanation(text=text, tokens=tokens, scores=shifted, explainer="golden", target=target)
    comp, suff = [], []
    for k in KS:
        args = {"remove_first_last": True, "only_pos": True,
                "removal_args": {"remove_tokens": False, "based_on": "k", "thresholds": [kcount(k, n)]}}
        comp.append(float(comp_eval.compute_evaluation(expl, target=target, **args).score))
        suff.append(float(suff_eval.compute_evaluation(expl, target=target, **args).score))
    return {"comprehensiveness": comp, "sufficiency": suff,
            "aopc_comprehensiveness": float(np.mean(comp)), "aopc_sufficiency": float(np.mean(suff))}


def check_retokenization(tok, ids, special, attr, target_counts):
    """ferret decodes masked ids to text and re-tokenizes it: assert that gives
    back exactly the masked ids for every rationale used, so ferret scores the
    inputs Glassbox scores."""
    units = [i for i in range(len(ids)) if not special[i]]
    n = len(units)
    order = sorted(range(n), key=lambda p: (-attr[units[p]], p))
    for c in target_counts:
        top = set(order[:c])
        for keep_top in (False, True):
            x = list(ids)
            for p in range(n):
                if (p in top) != keep_top:
                    x[units[p]] = tok.mask_token_id
            inner = x[1:-1]
            again = tok(tok.decode(inner))["input_ids"]
            assert again == x, (tok.decode(inner), again, x)


CASES = [
    # text, target (None: the predicted class), attribution seed, ferret?
    ("What a wonderful, delightful evening it was!", None, 1, True),
    ("The dinner was dreadful and the company was even worse.", None, 2, True),
    ("The dinner was dreadful and the company was even worse.", 1, 3, True),  # the class not predicted
    ("Good.", None, 4, True),
    (" ".join(["the good film was long but the music was fine and the actors were happy , yet the end was sad and bad ."] * 3),
     None, 5, True),  # n > 50: the curves' step schedule
    ("Sad, sad, sad.", None, None, False),  # ties, broken by position (numpy only)
]


def main():
    fm, ferret_version = import_ferret_evaluators()
    tok = AutoTokenizer.from_pretrained(MODEL)
    model = OrtModel(os.path.join(MODEL, "model.onnx"))
    cases = []
    for text, target, seed, with_ferret in CASES:
        enc = tok(text)
        ids = enc["input_ids"]
        tokens = tok.convert_ids_to_tokens(ids)
        special = [t in (tok.cls_token, tok.sep_token) for t in tokens]
        assert not any(t.startswith("##") for t in tokens), tokens
        n = len(ids) - 2
        if target is None:
            target = int(np.argmax(model.logits([ids], [[1] * len(ids)])[0]))
        if seed is None:
            attr = [0.0] + [0.5, 0.5, 0.25, 0.5, 0.25, 0.5, 0.25][:n] + [0.0]
            assert len(attr) == len(ids)
        else:
            rng = np.random.default_rng(seed)
            attr = [0.0] + [float(v) for v in np.round(rng.normal(size=n), 6)] + [0.0]
            assert len(set(attr[1:-1])) == n
        case = {"text": text, "input_ids": ids, "target": target, "attributions": attr,
                "attention": reference(model, ids, special, attr, target, "attention", tok.mask_token_id),
                "replace": reference(model, ids, special, attr, target, "replace", tok.mask_token_id)}
        if with_ferret:
            check_retokenization(tok, ids, special, attr, [kcount(k, n) for k in KS])
            case["ferret"] = ferret_values(fm, model, tok, text, tokens, attr, target, n)
            for key in ("comprehensiveness", "sufficiency"):
                gap = max(abs(a - b) for a, b in zip(case["ferret"][key], case["replace"][key]))
                print(f"{text[:30]!r} target {target}: ferret vs numpy (replace) {key}: max |diff| {gap:.2e}")
                assert gap < 1e-6
        cases.append(case)
    out = {
        "generator": "scripts/faithfulness_refs.py",
        "versions": {"ferret-xai": ferret_version, "onnxruntime": ort.__version__, "transformers": transformers.__version__,
                     "torch": torch.__version__, "numpy": np.__version__},
        "model": "distilbert-sentiment",
        "explained": "probability",
        "ks": KS,
        "mask_id": tok.mask_token_id,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
