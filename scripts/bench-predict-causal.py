#!/usr/bin/env python3
"""ONNX Runtime's Python API side of the causal-LM predict benchmark (issue 16, item 4).

Does what `glassbox predict` does on a causal LM, on the same model.onnx, tokenizer.json and
sentences: tokenize, group the inputs by length into batches of --batch-size (sorted by length,
then input order; each batch padded on the right to its longest row, attention_mask 0 there),
one InferenceSession.run per batch, and the top --top-k next tokens (softmax in float64) at each
row's last real token. Session options are onnxruntime's defaults (what a Python user gets).

Prints one JSON object: seconds for session creation, for the predict loop (tokenize + run +
top-k), and the best of --repeat loops; with --out, writes each sentence's top-k ids as JSONL
so the Go side's answers can be compared (scripts/bench-predict-causal.sh does both).

Run: .cache/pyenv-exports/bin/python scripts/bench-predict-causal.py --model DIR --texts FILE.jsonl
"""

import argparse
import json
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", required=True, help="JSONL with a text field")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out")
    a = ap.parse_args()

    texts = []
    with open(a.texts) as f:
        for line in f:
            texts.append(json.loads(line)["text"])
            if len(texts) == a.n:
                break

    t0 = time.perf_counter()
    tok = Tokenizer.from_file(f"{a.model}/tokenizer.json")
    tok.no_padding()
    tok.no_truncation()
    so = ort.SessionOptions()
    if a.threads:
        so.intra_op_num_threads = a.threads
    sess = ort.InferenceSession(f"{a.model}/model.onnx", so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    t_load = time.perf_counter() - t0

    def predict():
        encs = [tok.encode(t).ids for t in texts]
        order = sorted(range(len(encs)), key=lambda i: len(encs[i]))
        top = [None] * len(encs)
        for s in range(0, len(order), a.batch_size):
            idx = order[s:s + a.batch_size]
            seq = max(len(encs[i]) for i in idx)
            ids = np.zeros((len(idx), seq), dtype=np.int64)
            mask = np.zeros((len(idx), seq), dtype=np.int64)
            for b, i in enumerate(idx):
                ids[b, :len(encs[i])] = encs[i]
                mask[b, :len(encs[i])] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            logits = sess.run(["logits"], {k: v for k, v in feed.items() if k in names})[0]
            for b, i in enumerate(idx):
                z = logits[b, len(encs[i]) - 1].astype(np.float64)
                p = np.exp(z - z.max())
                p /= p.sum()
                k = np.argpartition(-z, a.top_k)[:a.top_k]
                k = k[np.lexsort((k, -z[k]))]
                top[i] = [(int(j), float(p[j])) for j in k]
        return top

    loops = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        top = predict()
        loops.append(time.perf_counter() - t0)
    if a.out:
        with open(a.out, "w") as f:
            for t in top:
                f.write(json.dumps({"ids": [j for j, _ in t], "probs": [p for _, p in t]}) + "\n")
    print(json.dumps({"side": "python", "onnxruntime": ort.__version__, "sentences": len(texts),
                      "load_s": round(t_load, 4), "predict_s": [round(x, 4) for x in loops],
                      "best_predict_s": round(min(loops), 4)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
