#!/usr/bin/env python3
"""Reference for onnxgraph.QuantizeDynamic: ONNX Runtime's own dynamic quantisation.

Quantises testdata/models/distilbert-sentiment/model.onnx with
onnxruntime.quantization.quantize_dynamic (its defaults: QInt8 weights, symmetric, per tensor)
restricted, as Glassbox's int8 mode is, to the MatMuls whose weight is a constant (by default it
also quantises Gather and the MatMuls between two activations in attention), runs the result on
fixed sentences tokenized by the fixture's tokenizer.json, and writes the logits to testdata/quantize/distilbert-sentiment.json,
which onnxgraph's TestQuantizeDynamicMatchesONNXRuntime compares with Glassbox's int8 graph.

Run: .cache/pyenv-exports/bin/python scripts/quantize_refs.py
"""

import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "testdata/models/distilbert-sentiment"
TEXTS = ["It is very unpleasant, having such connexions!", "One likes to get out into a shrubbery in fine weather.",
         "She walked to the window"]


def main() -> int:
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_padding()
    with tempfile.TemporaryDirectory() as d:
        q = Path(d) / "model.onnx"
        model = onnx.load(str(MODEL / "model.onnx"))
        consts = {t.name for t in model.graph.initializer}
        weighted = [n.name for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in consts]
        quantize_dynamic(str(MODEL / "model.onnx"), str(q), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul"], nodes_to_quantize=weighted)
        sess = ort.InferenceSession(str(q), providers=["CPUExecutionProvider"])
        names = {i.name for i in sess.get_inputs()}
        rows = []
        for t in TEXTS:
            ids = np.array([tok.encode(t).ids], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            logits = sess.run(["logits"], {k: v for k, v in feed.items() if k in names})[0]
            rows.append({"text": t, "ids": ids[0].tolist(), "logits": logits[0].astype(float).tolist()})
    out = ROOT / "testdata/quantize/distilbert-sentiment.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"onnxruntime": ort.__version__, "weight_type": "QInt8", "rows": rows}, indent=1) + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
