#!/usr/bin/env python3
"""Exports tiny random-weight transformers with torch.onnx.export(dynamo=True) and
lists the ONNX op types each export uses.

Why: Glassbox's onnxgraph package (static shape inference, attention surgery) must
work on graphs made by today's default PyTorch exporter, not only on legacy
TorchScript exports. This script makes such graphs so onnxgraph can be checked on
them; nothing it writes is committed.

What it does, for each model below (seeded random weights, tiny sizes):

  bert        BertForSequenceClassification            (input_ids, attention_mask, token_type_ids)
  distilbert  DistilBertForSequenceClassification      (input_ids, attention_mask)
  roberta     RobertaForSequenceClassification         (input_ids, attention_mask)
  gpt2-lm     GPT2LMHeadModel                          (input_ids, attention_mask)
  gpt2-cls    GPT2ForSequenceClassification            (input_ids, attention_mask)
  minilm      BertForSequenceClassification shaped like all-MiniLM-L6 (6 layers, 12 heads)

and for attn_implementation in {eager, sdpa} and opset in {17, 18, 19, 20}, it
exports with batch and sequence dynamic to

  .cache/dynamo/<model>/<impl>-opset<N>.onnx      (single file, no external data)

(with --unoptimized also <impl>-opset<N>-noopt.onnx, exported with optimize=False).

It also writes .cache/dynamo/<model>/reference.json: the model's geometry and, for
a few inputs (an unpadded sentence and a right-padded batch), PyTorch's eager
output_attentions=True attentions ([layer][batch][head][query][key]) and logits,
to check attention extracted from the ONNX graphs numerically. Finally it prints
the set of op types per model/implementation/opset and writes them to
.cache/dynamo/ops.json.

Run (from the repository root; the venv needs torch 2.x, transformers 5.x, onnx,
onnxscript and onnxruntime):

  .cache/pyenv-exports/bin/python scripts/dynamo-ops.py [--models bert,gpt2-lm] [--opsets 18,20]

All 48 default exports take about 8 minutes on 16 cores. Then
`go test -run TestDynamoExportsLocal -v ./onnxgraph` checks onnxgraph on the exports
(it skips when .cache/dynamo is absent).

Notes: weights are re-drawn with a larger spread than Hugging Face's init (see
build) so the attention rows are peaked and the numerical check means something.
torch.onnx builds opset 17 by down-converting its opset-18 graph with onnx's
version converter, which leaves GPT-2's Split with the opset-18 attribute
num_outputs; ONNX Runtime rejects those files (onnx.checker too), so the Go
harness drops the attribute before running them.
"""

import argparse
import json
import os
import sys
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, ".cache", "dynamo")
SEED = 20261201
VOCAB = 120
MAX_POS = 64
OPSETS = [17, 18, 19, 20]
IMPLS = ["eager", "sdpa"]


def configs():
    """Returns {name: (model class, config, input names)} with tiny geometries."""
    import transformers as tf

    common = dict(vocab_size=VOCAB, max_position_embeddings=MAX_POS, num_labels=3)
    bert = tf.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, type_vocab_size=2, **common)
    minilm = tf.BertConfig(hidden_size=48, num_hidden_layers=6, num_attention_heads=12,
                           intermediate_size=192, type_vocab_size=2, **common)
    distil = tf.DistilBertConfig(vocab_size=VOCAB, max_position_embeddings=MAX_POS, dim=32,
                                 n_layers=2, n_heads=4, hidden_dim=64, num_labels=3)
    roberta = tf.RobertaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                               intermediate_size=64, type_vocab_size=1, pad_token_id=1,
                               vocab_size=VOCAB, max_position_embeddings=MAX_POS + 2, num_labels=3)
    gpt2 = dict(vocab_size=VOCAB, n_positions=MAX_POS, n_embd=32, n_layer=2, n_head=4,
                use_cache=False, pad_token_id=0)
    gpt2_lm = tf.GPT2Config(**gpt2)
    gpt2_cls = tf.GPT2Config(num_labels=3, **gpt2)
    two = ["input_ids", "attention_mask"]
    three = two + ["token_type_ids"]
    return {
        "bert": (tf.BertForSequenceClassification, bert, three),
        "distilbert": (tf.DistilBertForSequenceClassification, distil, two),
        "roberta": (tf.RobertaForSequenceClassification, roberta, two),
        "gpt2-lm": (tf.GPT2LMHeadModel, gpt2_lm, two),
        "gpt2-cls": (tf.GPT2ForSequenceClassification, gpt2_cls, two),
        "minilm": (tf.BertForSequenceClassification, minilm, three),
    }


def build(cls, config, impl, state=None):
    """Builds the model with seeded weights (or the given state) and the attention implementation."""
    import torch

    torch.manual_seed(SEED)
    config._attn_implementation = impl
    model = cls(config)
    if state is None:
        # Hugging Face's init (std 0.02, zero biases, unit LayerNorm) gives nearly
        # uniform attention, which would make the numerical check weak; larger
        # seeded weights and nonzero biases give peaked, distinct attention rows.
        with torch.no_grad():
            for name, p in sorted(model.named_parameters()):
                if name.endswith("bias"):
                    p.normal_(0, 0.1)
                elif p.dim() == 1:
                    p.normal_(1, 0.1)
                else:
                    p.normal_(0, 0.3)
    else:
        model.load_state_dict(state)
    model.eval()
    return model


def sample_inputs(names, pad_id):
    """An unpadded sentence and a right-padded batch of two, with ids that avoid the pad id."""
    import torch

    g = torch.Generator().manual_seed(SEED)

    def ids(n):
        return torch.randint(3, VOCAB, (n,), generator=g).tolist()

    single = [ids(7)]
    batch = [ids(9), ids(5) + [pad_id] * 4]
    out = []
    for rows, masks in ((single, [[1] * 7]), (batch, [[1] * 9, [1] * 5 + [0] * 4])):
        feed = {"input_ids": torch.tensor(rows), "attention_mask": torch.tensor(masks)}
        if "token_type_ids" in names:
            feed["token_type_ids"] = torch.zeros_like(feed["input_ids"])
        out.append(feed)
    return out


def reference(model, config, names, pad_id):
    """PyTorch eager outputs (attentions and logits) for the sample inputs."""
    import torch

    cases = []
    for feed in sample_inputs(names, pad_id):
        with torch.no_grad():
            res = model(**feed, output_attentions=True)
        cases.append({
            "inputs": {k: v.tolist() for k, v in feed.items()},
            "logits": res.logits.double().tolist(),
            "attentions": [a.double().tolist() for a in res.attentions],
        })
    layers = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layers", None) or config.n_layer
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "n_heads", None) or config.n_head
    return {"layers": layers, "heads": heads, "inputs": names, "cases": cases}


def export(model, names, path, opset, optimize=True):
    """torch.onnx.export with the dynamo exporter, batch and sequence dynamic, one file."""
    import onnx
    import torch

    batch = torch.export.Dim("batch", min=1, max=64)
    seq = torch.export.Dim("sequence", min=1, max=MAX_POS)
    feed = {n: torch.ones(2, 8, dtype=torch.long) for n in names}
    feed["input_ids"] = torch.arange(16, dtype=torch.long).reshape(2, 8) + 3
    if "token_type_ids" in feed:
        feed["token_type_ids"] = torch.zeros(2, 8, dtype=torch.long)
    dyn = {n: {0: batch, 1: seq} for n in names}
    tmp = path + ".tmp"
    torch.onnx.export(model, (), tmp, kwargs=feed, dynamo=True, opset_version=opset,
                      dynamic_shapes=dyn, input_names=names, output_names=["logits"],
                      optimize=optimize, verbose=False)
    m = onnx.load(tmp)
    onnx.save(m, path, save_as_external_data=False)
    for f in os.listdir(os.path.dirname(tmp)):
        if f.startswith(os.path.basename(tmp)):
            os.remove(os.path.join(os.path.dirname(tmp), f))
    return m


def op_types(m):
    ops = set()
    for n in m.graph.node:
        ops.add((n.domain + "::" if n.domain not in ("", "ai.onnx") else "") + n.op_type)
    return sorted(ops)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="", help="comma-separated subset of model names")
    ap.add_argument("--opsets", default=",".join(map(str, OPSETS)))
    ap.add_argument("--impls", default=",".join(IMPLS))
    ap.add_argument("--unoptimized", action="store_true",
                    help="also export with optimize=False (<impl>-opset<N>-noopt.onnx): SplitToSequence, CastLike, Constant, ...")
    args = ap.parse_args()

    import torch
    import transformers

    torch.set_num_threads(max(1, os.cpu_count() // 2))
    print("torch %s, transformers %s" % (torch.__version__, transformers.__version__))
    wanted = [m for m in args.models.split(",") if m]
    opsets = [int(o) for o in args.opsets.split(",")]
    impls = args.impls.split(",")
    ops_path = os.path.join(OUT, "ops.json")
    all_ops = {}
    if os.path.exists(ops_path):
        with open(ops_path) as f:
            all_ops = json.load(f)
    failures = []
    for name, (cls, config, names) in configs().items():
        if wanted and name not in wanted:
            continue
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        pad_id = config.pad_token_id if config.pad_token_id is not None else 0
        eager = build(cls, config, "eager")
        state = eager.state_dict()
        with open(os.path.join(folder, "reference.json"), "w") as f:
            json.dump(reference(eager, config, names, pad_id), f)
        for impl in impls:
            model = eager if impl == "eager" else build(cls, config, impl, state)
            for opset, optimize in [(o, opt) for o in opsets for opt in [True] + [False] * args.unoptimized]:
                suffix = "" if optimize else "-noopt"
                key = "%s/%s-opset%d%s" % (name, impl, opset, suffix)
                path = os.path.join(folder, "%s-opset%d%s.onnx" % (impl, opset, suffix))
                try:
                    m = export(model, names, path, opset, optimize)
                except Exception as e:  # keep going: the report lists what failed
                    traceback.print_exc()
                    failures.append("%s: %s" % (key, str(e).splitlines()[0] if str(e) else type(e).__name__))
                    continue
                all_ops[key] = op_types(m)
                print("%-26s opset_import=%s %s" % (key, {o.domain or "": o.version for o in m.opset_import},
                                                    " ".join(all_ops[key])))
    with open(ops_path, "w") as f:
        json.dump(all_ops, f, indent=1, sort_keys=True)
    union = sorted({o for ops in all_ops.values() for o in ops})
    print("all op types: %s" % " ".join(union))
    for fail in failures:
        print("FAILED " + fail, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
