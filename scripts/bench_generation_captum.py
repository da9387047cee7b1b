#!/usr/bin/env python3
"""Captum's LLMAttribution(FeatureAblation) on the continuation Glassbox explained.

Why: issue 17 compares Glassbox's per-step occlusion of a generated
continuation with Captum's LLM attribution on the same model, prompt and
continuation. scripts/bench-generation-explain.sh runs Glassbox's
BenchmarkGenerationOcclusion first, which writes the prompt ids, the greedy
continuation and its attributions (GLASSBOX_BENCH_GEN_OUT); this script loads
the same weights into transformers' GPT2LMHeadModel (from the ONNX file's
initializers: the export keeps Hugging Face's names, and the head is tied to
the token embedding), runs Captum 0.9's LLMAttribution(FeatureAblation) with
the prompt tokens as features, ablated to the id Glassbox replaces them with,
and target = the continuation, timing it in both of Captum's forward modes
(token by token with the KV cache, its default, and one teacher-forced pass
per perturbation as Glassbox does), and compares the per-step attributions.

GLASSBOX_BENCH_CAPTUM_NOCACHE=0 skips Captum's token-by-token mode without
a cache ((P + 1) x N passes). Wall and CPU seconds are both printed: on a busy
machine CPU time is the fairer figure.

Run: scripts/bench-generation-explain.sh (or, after the Go side:
.cache/pyenv-exports/bin/python scripts/bench_generation_captum.py MODEL_DIR CASE_JSON).
"""
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from captum.attr import FeatureAblation, LLMAttribution, TextTokenInput
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast


def load_model(folder):
    cfg = GPT2Config.from_pretrained(folder)
    model = GPT2LMHeadModel(cfg).eval()
    m = onnx.load(folder + "/model.onnx")
    state = {}
    for t in m.graph.initializer:
        if t.name.startswith("transformer."):
            state[t.name] = torch.from_numpy(numpy_helper.to_array(t).copy())
    missing, unexpected = model.load_state_dict(state, strict=False)
    # The exporter folds identical constant tensors into one initializer (a
    # random GPT-2's LayerNorm gains are ones, its biases zeros), so those
    # keep the fresh model's equal constants; the per-step log-probabilities
    # checked against ONNX Runtime below confirm the weights.
    params = dict(model.named_parameters())
    for k in missing:
        if k == "lm_head.weight" or k not in params:
            continue
        v = params[k]
        assert torch.all(v == v.flatten()[0]) and float(v.flatten()[0]) in (0.0, 1.0), k
    assert not unexpected, unexpected
    model.tie_weights()
    return model


def main():
    folder, case_path = sys.argv[1], sys.argv[2]
    case = json.load(open(case_path))
    torch.manual_seed(0)
    model = load_model(folder)
    tok = PreTrainedTokenizerFast(tokenizer_file=folder + "/tokenizer.json")
    ids = tok(case["prompt"])["input_ids"]
    assert ids == case["prompt_ids"], (ids, case["prompt_ids"])
    target = torch.tensor(case["continuation_ids"])
    # The continuation under teacher forcing: PyTorch's per-step log-probabilities against Glassbox's.
    with torch.no_grad():
        full = torch.tensor([ids + case["continuation_ids"]])
        lp = torch.log_softmax(model(full).logits[0].double(), -1)
    P = len(ids)
    lp_go = np.array([s["logprob"] for s in case["steps"]])
    lp_pt = np.array([float(lp[P + j - 1, t]) for j, t in enumerate(case["continuation_ids"])])
    print("per-step log p, Glassbox (ONNX Runtime) vs PyTorch: max |diff| %.2g" % np.abs(lp_go - lp_pt).max())
    go = np.array([s["attribution"] for s in case["steps"]])  # [N, P]
    llm = LLMAttribution(FeatureAblation(model), tok)
    rows = []
    modes = [
        ("one teacher-forced pass per perturbation (forward_in_tokens=False)", dict(forward_in_tokens=False)),
        ("token by token, KV cache (Captum's default)", dict(forward_in_tokens=True, use_cached_outputs=True)),
        ("token by token, no cache", dict(forward_in_tokens=True, use_cached_outputs=False)),
    ]
    n = len(case["continuation_ids"])
    work = {
        modes[0][0]: "%d passes of %d tokens" % (P + 1, P + n),
        modes[1][0]: "%d prefills + %d one-token steps each" % (P + 1, n - 1),
        modes[2][0]: "%d passes of %d..%d tokens" % ((P + 1) * n, P, P + n - 1),
    }
    for name, kw in modes:
        inp = TextTokenInput(case["prompt"], tok, baselines=case["replace_id"])
        if name == modes[2][0] and os.environ.get("GLASSBOX_BENCH_CAPTUM_NOCACHE", "1") == "0":
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            with torch.no_grad():
                res = llm.attribute(inp, target=target, **kw)
        except Exception as e:  # Captum 0.9's cached path calls transformers internals that moved in 5.x
            rows.append((name, None, None, "fails: %s: %s" % (type(e).__name__, str(e).splitlines()[0][:80])))
            print(rows[-1], flush=True)
            continue
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        tok_attr = res.token_attr.double().numpy()  # [N, P]
        rows.append((name, secs, cpu, "%.2g" % np.abs(tok_attr - go).max()))
        print(rows[-1], flush=True)
    print("explaining %d generated tokens over a %d-token prompt with occlusion (replace by id %d):" % (n, P, case["replace_id"]))
    print("| implementation | wall s | CPU s | model work | max abs diff vs Glassbox |")
    print("|---|---|---|---|---|")
    print("| Glassbox (ONNX Runtime; each perturbed input run once for all steps) | %.2f | %.2f | %d passes of %d tokens | 0 |" % (case["seconds"], case["cpu_seconds"], case["inputs"], P + n))
    for name, secs, cpu, diff in rows:
        f = lambda x: "—" if x is None else "%.2f" % x
        print("| Captum LLMAttribution(FeatureAblation), %s | %s | %s | %s | %s |" % (name, f(secs), f(cpu), work[name], diff))
    print("torch %s, threads %d" % (torch.__version__, torch.get_num_threads()))


if __name__ == "__main__":
    main()
