#!/usr/bin/env python3
"""Writes the PyTorch references for explaining generated continuations.

Why: the explainer's generation mode attributes every generated token t_j to
the context through the target log p(t_j | prompt + t_<j). Its Go tests check
per-step occlusion (leave one context token out by attention masking) against
log-probabilities computed here independently, in float64 PyTorch, by a plain
GPT-2 forward written from the definitions (token + position embeddings,
pre-LayerNorm blocks, causal softmax attention, gelu_new MLP, tied head) with
the weights read from the ONNX file's initializers. Tests never run Python,
so the JSON is committed.

The attention mask is applied as the exported graph (transformers 4.39's
GPT2Attention) applies it: scores outside the causal triangle become
finfo(float32).min, then (1 - mask) * finfo(float32).min is added. Positions
keep their index when masked (conventions.md, attention masking).

Run: .cache/pyenv-exports/bin/python scripts/generation_refs.py
(torch, onnx, onnxruntime, tokenizers; reads testdata/models/gpt2-tiny, writes
testdata/generation/gpt2-tiny-occlusion.json).

For each prompt: the greedy continuation of N tokens (float64 arg-max, with
the margin to the runner-up so a float32 tie would show), then for every
step j, computed on that step's own context prompt + t_<j alone (so the
tests check, rather than assume, that later tokens change nothing), the
log-probabilities of t_j and of the contrast token with each context token
i < P + j absent, and with all prompt tokens absent (the empty coalition of
the prompt-only mode).
"""
import json
import math
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "testdata/models/gpt2-tiny"
OUT = ROOT / "testdata/generation/gpt2-tiny-occlusion.json"
PROMPTS = [
    "The dinner was dreadful and",
    "She walked to the window",
    "Mr. Darcy's manners were",
]
NEW_TOKENS = 8
CONTRAST = "Ġthe"
MIN32 = float(np.finfo(np.float32).min)


def load_weights():
    m = onnx.load(str(MODEL / "model.onnx"))
    w = {t.name: torch.from_numpy(numpy_helper.to_array(t).astype(np.float64)) for t in m.graph.initializer}
    return w


def forward(w, cfg, ids, mask):
    """logits [S, V] in float64 for one row."""
    S = len(ids)
    H, nh = cfg["n_embd"], cfg["n_head"]
    d = H // nh
    eps = cfg["layer_norm_epsilon"]
    ids_t = torch.tensor(ids)
    m = torch.tensor(mask, dtype=torch.float64)
    h = w["transformer.wte.weight"][ids_t] + w["transformer.wpe.weight"][torch.arange(S)]
    causal = torch.tril(torch.ones(S, S, dtype=torch.bool))

    def ln(x, p):
        return torch.nn.functional.layer_norm(x, (H,), w[p + ".weight"], w[p + ".bias"], eps)

    for l in range(cfg["n_layer"]):
        p = "transformer.h.%d." % l
        a = ln(h, p + "ln_1")
        qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(H, dim=-1)
        q, k, v = (t.view(S, nh, d).transpose(0, 1) for t in (q, k, v))
        s = q @ k.transpose(-1, -2) / math.sqrt(d)
        s = torch.where(causal, s, torch.tensor(MIN32, dtype=torch.float64))
        s = s + (1.0 - m)[None, None, :] * MIN32
        att = torch.softmax(s, dim=-1)
        o = (att @ v).transpose(0, 1).reshape(S, H)
        h = h + o @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        x = ln(h, p + "ln_2")
        x = x @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        x = 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
        h = h + x @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    h = ln(h, "transformer.ln_f")
    return h @ w["transformer.wte.weight"].T


def step_logprobs(w, cfg, seq, mask, P, j, contrast):
    """log p(t_j) and log p(contrast) at position P+j-1, run on the step's own
    context seq[:P+j] alone (no later token in the input)."""
    n = P + j
    lp = torch.log_softmax(forward(w, cfg, seq[:n], mask[:n]), dim=-1)[n - 1]
    return float(lp[seq[n]]), float(lp[contrast])


def main():
    cfg = json.loads((MODEL / "config.json").read_text())
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    w = load_weights()
    sess = ort.InferenceSession(str(MODEL / "model.onnx"), providers=["CPUExecutionProvider"])
    contrast = tok.token_to_id(CONTRAST)
    cases = []
    worst = 0.0
    for text in PROMPTS:
        prompt = tok.encode(text).ids
        P = len(prompt)
        seq = list(prompt)
        margins = []
        for _ in range(NEW_TOKENS):
            last = forward(w, cfg, seq, [1] * len(seq))[-1]
            top2 = torch.topk(last, 2).values
            margins.append(float(top2[0] - top2[1]))
            seq.append(int(torch.argmax(last)))
        cont = seq[P:]
        n = len(seq)
        # The ONNX export agrees with this forward on the unperturbed sequence.
        o = sess.run(["logits"], {"input_ids": np.array([seq], dtype=np.int64),
                                  "attention_mask": np.ones((1, n), dtype=np.int64)})[0][0]
        worst = max(worst, float(np.abs(o - forward(w, cfg, seq, [1] * n).numpy()).max()))
        N = len(cont)
        ones = [1] * n
        full, full_alt = zip(*[step_logprobs(w, cfg, seq, ones, P, j, contrast) for j in range(N)])
        masked = [[None] * N for _ in range(n - 1)]
        masked_alt = [[None] * N for _ in range(n - 1)]
        for i in range(n - 1):
            mask = [1] * n
            mask[i] = 0
            for j in range(N):
                if i < P + j:
                    masked[i][j], masked_alt[i][j] = step_logprobs(w, cfg, seq, mask, P, j, contrast)
        empty_mask = [0] * P + [1] * (n - P)
        empty, empty_alt = zip(*[step_logprobs(w, cfg, seq, empty_mask, P, j, contrast) for j in range(N)])
        cases.append({
            "prompt": text, "prompt_ids": prompt, "continuation_ids": cont,
            "continuation_tokens": [tok.id_to_token(t) for t in cont],
            "greedy_margins": margins,
            "logprob": list(full), "contrast_logprob": list(full_alt),
            "masked_logprob": masked, "masked_contrast_logprob": masked_alt,
            "empty_prompt_logprob": list(empty), "empty_prompt_contrast_logprob": list(empty_alt),
        })
    assert worst < 1e-4, worst
    out = {
        "generator": "scripts/generation_refs.py",
        "model": "gpt2-tiny",
        "versions": {"torch": torch.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__},
        "masking": "attention",
        "contrast_token": CONTRAST, "contrast_id": contrast,
        "new_tokens": NEW_TOKENS,
        "onnx_vs_float64_max_abs_logit_diff": worst,
        "layout": "masked_logprob[i][j] = log p(t_j | prompt + t_<j) with context token i absent (attention_mask 0), null for i >= P+j; every step run on its own context",
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote %s (onnx vs float64 forward: %.3g)" % (OUT.relative_to(ROOT), worst))


if __name__ == "__main__":
    main()
