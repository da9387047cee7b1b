"""Builds testdata/models/distilbert-mlm/: a tiny masked language model for the
counterfactual search's substitutions, and its reference proposals.

Run: .cache/pyenv-exports/bin/python scripts/make_mlm_fixture.py
(torch, transformers, onnxruntime; no network: the tokenizer is the
distilbert-sentiment fixture's bert-base-uncased tokenizer.json).

The model is a DistilBertForMaskedLM (dim 16, 2 layers, 2 heads, hidden_dim
64, vocab 30522, seeded random weights, untrained), exported by the legacy
torch.onnx exporter at opset 14 with inputs input_ids, attention_mask and
output logits [batch, sequence, vocab] -- what `optimum-cli export onnx --task
fill-mask` gives for a real checkpoint. reference.json holds, for a few
sentences and words, the replacement words Glassbox's masked-LM proposer must
return: the word's span replaced by "[MASK]", the text tokenized, the logits at
the mask position (onnxruntime, checked against PyTorch), token ids sorted by
logit (ties: lower id first), keeping ids whose token does not start with "##"
and which decode (special tokens skipped) to a non-empty string of letters
only; the first K+1 = 5.
"""
import json
import os
import shutil

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer
from transformers import DistilBertConfig, DistilBertForMaskedLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "testdata", "models", "distilbert-sentiment")
OUT = os.path.join(ROOT, "testdata", "models", "distilbert-mlm")
K = 4
SENTENCES = [
    ("One likes to get out into a shrubbery in fine weather.", [1, 9]),
    ("It is very unpleasant, having such connexions!", [2, 3, 6]),
    ("I was willing to hope that you must fare better.", [4, 9]),
    ("Café naïve déjà vu", [0, 1]),
]


def main():
    torch.manual_seed(7)
    os.makedirs(OUT, exist_ok=True)
    for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(SRC, f), os.path.join(OUT, f))
    cfg = DistilBertConfig(vocab_size=30522, dim=16, n_layers=2, n_heads=2, hidden_dim=64,
                           max_position_embeddings=128, attn_implementation="eager")
    model = DistilBertForMaskedLM(cfg).eval()
    model.config.return_dict = False
    path = os.path.join(OUT, "model.onnx")
    ids = torch.tensor([[101, 7592, 103, 102]])
    torch.onnx.export(model, (ids, torch.ones_like(ids)), path, input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], opset_version=14, do_constant_folding=True, dynamo=False,
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"},
                                    "logits": {0: "batch", 1: "sequence"}})
    cfg_json = model.config.to_dict()
    cfg_json["architectures"] = ["DistilBertForMaskedLM"]
    cfg_json.pop("return_dict", None)
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(cfg_json, f, indent=2, sort_keys=True)

    tok = Tokenizer.from_file(os.path.join(OUT, "tokenizer.json"))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    items, max_diff = [], 0.0
    for text, word_indices in SENTENCES:
        enc = tok.encode(text)
        spans = {}
        for wid, (s, e) in zip(enc.word_ids, enc.offsets):
            if wid is None:
                continue
            a, b = spans.get(wid, (s, e))
            spans[wid] = (min(a, s), max(b, e))
        for w in word_indices:
            s, e = spans[w]
            masked = text[:s] + "[MASK]" + text[e:]
            menc = tok.encode(masked)
            at = menc.ids.index(103)
            feed = {"input_ids": np.array([menc.ids], dtype=np.int64),
                    "attention_mask": np.array([menc.attention_mask], dtype=np.int64)}
            logits = sess.run(["logits"], feed)[0][0, at]
            with torch.no_grad():
                ref = model(torch.tensor([menc.ids]), attention_mask=torch.tensor([menc.attention_mask]))[0][0, at].numpy()
            max_diff = max(max_diff, float(np.abs(ref - logits).max()))
            order = sorted(range(len(logits)), key=lambda i: (-float(logits[i]), i))
            words = []
            for i in order:
                if len(words) > K:
                    break
                t = tok.id_to_token(i)
                if t is None or t.startswith("##"):
                    continue
                d = tok.decode([i], skip_special_tokens=True).strip()
                if d and all(ch.isalpha() for ch in d):
                    words.append(d)
            items.append({"text": text, "word_index": w, "word": text[s:e], "start": s, "end": e,
                          "masked": masked, "k": K, "proposals": words})
    ref = {"generator": "scripts/make_mlm_fixture.py", "torch": torch.__version__, "onnxruntime": ort.__version__,
           "onnx_vs_pytorch_max_abs_diff": max_diff, "items": items}
    assert max_diff < 1e-4, max_diff
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", OUT, "max |onnx - pytorch|", max_diff)


if __name__ == "__main__":
    main()
