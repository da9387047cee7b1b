#!/usr/bin/env python3
"""Builds the fixtures for the exports users actually make (run through
scripts/make-export-fixtures.sh, which sets up the torch 2.x environment).

testdata/models/bert-tiny/
    A seeded random-weight BertForSequenceClassification (hidden 16, 2 layers,
    2 heads, token_type_ids input) with the committed WordPiece tokenizer.json,
    exported by today's default exporter: torch.onnx.export(dynamo=True), which
    writes model.onnx + model.onnx.data (external data) at its default opset.
testdata/models/bert-tiny/fused/model_optimized.onnx
    The same weights exported by the legacy exporter and fused by ONNX
    Runtime's transformer optimizer (com.microsoft::Attention with
    mask_index = ReduceSum(attention_mask), what `optimum-cli onnxruntime
    optimize -O2` does): its tokenizer.json and config.json are the parent
    folder's. It reads the attention mask as a length.
testdata/models/bert-tiny/reference.json
    PyTorch's (eager attention) logits, probabilities and attentions for the
    reference sentences, right-padded batches, and for the short sentences the
    exact occlusion and Shapley values of the predicted class's probability
    under both maskings of conventions.md (attention: mask 0, id and position
    kept; replace: id -> [MASK]), enumerated in PyTorch; and for the same
    sentences the gradient methods of conventions.md (gradient, saliency,
    gradient x input, integrated gradients with pad/zeros baselines and two
    quadrature rules, with their completeness gaps), in float64 PyTorch, with
    respect to the output of the word-embedding lookup.

Weights are drawn with initializer_range 0.4, so the random model's outputs
move by whole percents when a token goes (a trained-looking scale), which is
what makes a 1e-5 comparison of attributions meaningful.
"""

import copy
import itertools
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_test_models import (LABELS, MAX_LEN, MODELS_DIR, ROOT, PADDED_BATCHES, REFERENCE_SENTENCES, dir_size,  # noqa: E402
                              encoding_record, f64, g8, nested, pad_batch, softmax64, write_json)

FOLDER = os.path.join(MODELS_DIR, "bert-tiny")
# Sentences (indices into REFERENCE_SENTENCES) whose attributions are enumerated: short enough
# for exact Shapley values (2^n coalitions) and cheap to occlude.
ATTRIBUTION_SENTENCES = [0, 3, 8, 11]
SHAPLEY_MAX_PLAYERS = 12
# Integrated gradients: points of the path quadrature (conventions.md's default).
IG_STEPS = 50
GRADIENT_METHODS_SPEC = {
    "with_respect_to": "output of bert.embeddings.word_embeddings (before token type and position embeddings and "
                       "LayerNorm): model(inputs_embeds=e, attention_mask, token_type_ids=0)",
    "dtype": "float64 (model.double(), eager attention)",
    "targets": {"gradient_methods": "softmax probability of the predicted class",
                "gradient_methods_logit": "logit of the predicted class"},
    "special_tokens": "attribution 0 in saliency, gradxinput and every ig ([CLS], [SEP]); grad is the raw gradient",
    "ig": "ig(i) = sum_h (e_ih - e'_ih) * sum_k w_k df/de_ih(e' + a_k (e - e')); baseline e' = [PAD]'s embedding "
          "(pad, id 0) or zeros at non-special positions, e at special positions",
    "rules": {"gausslegendre": "numpy leggauss(steps) nodes mapped to [0,1]: a = (x+1)/2, w = w/2",
              "riemann_middle": "a_k = (k+0.5)/steps, w_k = 1/steps"},
    "steps": IG_STEPS,
    "completeness_gap": "|sum_i ig(i) - (f(e) - f(e'))| / |f(e) - f(e')|",
}


def versions():
    import transformers
    import onnxscript
    return {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__,
            "onnx": onnx.__version__, "onnxscript": onnxscript.__version__, "onnxruntime": ort.__version__,
            "numpy": np.__version__}


def build_model():
    from tokenizers import Tokenizer
    from transformers import BertConfig, BertForSequenceClassification
    torch.manual_seed(21)
    tok = Tokenizer.from_file(os.path.join(FOLDER, "tokenizer.json"))
    cfg = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=MAX_LEN, type_vocab_size=2, num_labels=2,
                     id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)},
                     problem_type="single_label_classification", pad_token_id=tok.token_to_id("[PAD]"),
                     initializer_range=0.4)
    cfg.architectures = ["BertForSequenceClassification"]
    model = BertForSequenceClassification(cfg).eval()
    return tok, model


def export_inputs(V):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, V, (2, 7), generator=g)
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    return ids, mask, torch.zeros(2, 7, dtype=torch.long)


def export_dynamo(model, V, path):
    """torch.onnx.export with today's defaults (dynamo, external data, default opset)."""
    ids, mask, types = export_inputs(V)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence", max=MAX_LEN)
    shapes = {"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}, "token_type_ids": {0: batch, 1: seq}}
    prog = torch.onnx.export(model, (), path, kwargs={"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
                             input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
                             dynamo=True, dynamic_shapes=shapes)
    del prog
    m = onnx.load(path, load_external_data=False)
    ext = [t.name for t in m.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert ext, "the dynamo export wrote no external data"
    # The exporter's per-node stack traces are 90% of the graph's bytes and mean nothing to
    # Glassbox; the weights stay where the exporter put them (model.onnx.data).
    for n in m.graph.node:
        del n.metadata_props[:]
        n.doc_string = ""
    onnx.save(m, path)
    return {i.domain or "ai.onnx": i.version for i in m.opset_import}


FUSE_SCRIPT = r"""
import sys, onnx, torch
from transformers import BertForSequenceClassification
from onnxruntime.transformers.optimizer import optimize_model
src, raw, out = sys.argv[1:4]
model = BertForSequenceClassification.from_pretrained(src, attn_implementation="eager").eval()
model.config.return_dict = False
g = torch.Generator().manual_seed(0)
ids = torch.randint(5, model.config.vocab_size, (2, 7), generator=g)
mask = torch.ones(2, 7, dtype=torch.long); mask[1, 5:] = 0
names = ["input_ids", "attention_mask", "token_type_ids"]
axes = {n: {0: "batch", 1: "sequence"} for n in names}; axes["logits"] = {0: "batch"}
torch.onnx.export(model, (ids, {"attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}), raw,
                  input_names=names, output_names=["logits"], opset_version=14, do_constant_folding=True,
                  dynamic_axes=axes, dynamo=False)
opt = optimize_model(raw, model_type="bert", num_heads=model.config.num_attention_heads,
                     hidden_size=model.config.hidden_size)
opt.save_model_to_file(out, use_external_data_format=False)
"""


def export_fused(model, path):
    """Legacy export + ONNX Runtime's BERT fusion (mask_index as lengths, as `-O2` does).

    ONNX Runtime's fusion matches the attention-mask pattern of transformers < 4.58 (what
    optimum-onnx pins), so this step runs in the optimum environment (.cache/pyenv-optimum,
    made by scripts/make-export-fixtures.sh) on the same weights."""
    import subprocess
    py = os.path.join(ROOT, ".cache", "pyenv-optimum", "bin", "python")
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(os.path.join(tmp, "src"))
        subprocess.run([py, "-c", FUSE_SCRIPT, os.path.join(tmp, "src"), os.path.join(tmp, "raw.onnx"), path], check=True)
    m = onnx.load(path)
    ops = sorted({(n.domain or "ai.onnx") + "::" + n.op_type for n in m.graph.node})
    assert "com.microsoft::Attention" in ops, ops
    # mask_index comes from ReduceSum(mask) or from EmbedLayerNormalization's second output (the same sum).
    assert any(n.op_type in ("ReduceSum", "EmbedLayerNormalization") and len(n.output) > 1 or n.op_type == "ReduceSum"
               for n in m.graph.node), "fusion did not read the mask as lengths"
    return ops


def probability(model, ids, mask, types, cls=None):
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids]), attention_mask=torch.tensor([mask]),
                       token_type_ids=torch.tensor([types])).logits[0].double().numpy()
    p = softmax64(logits)
    return p if cls is None else float(p[cls])


def attributions(model, rec, mask_id):
    """Exact occlusion and Shapley values of P(predicted) under both maskings (conventions.md)."""
    ids, types = rec["input_ids"], [0] * len(rec["input_ids"])
    players = [i for i, s in enumerate(rec["special_tokens_mask"]) if s == 0]
    full = probability(model, ids, [1] * len(ids), types)
    cls = int(np.argmax(full))
    out = {"class": cls, "label": LABELS[cls], "value": f64(full[cls])}

    def value(present, masking):
        m, x = [1] * len(ids), list(ids)
        for i in players:
            if i not in present:
                if masking == "attention":
                    m[i] = 0
                else:
                    x[i] = mask_id
        return probability(model, x, m, types, cls)

    for masking in ("attention", "replace"):
        fx = value(set(players), masking)
        occ = [0.0] * len(ids)
        for i in players:
            occ[i] = fx - value(set(players) - {i}, masking)
        res = {"occlusion": [f64(v) for v in occ]}
        n = len(players)
        if n <= SHAPLEY_MAX_PLAYERS:
            cache = {}
            for r in range(n + 1):
                for S in itertools.combinations(players, r):
                    cache[frozenset(S)] = value(set(S), masking)
            phi = [0.0] * len(ids)
            for i in players:
                others = [j for j in players if j != i]
                for r in range(n):
                    w = math.factorial(r) * math.factorial(n - r - 1) / math.factorial(n)
                    for S in itertools.combinations(others, r):
                        phi[i] += w * (cache[frozenset(S) | {i}] - cache[frozenset(S)])
            res["shapley"] = [f64(v) for v in phi]
            res["empty_value"] = f64(cache[frozenset()])
        out[masking] = res
    return out


def ig_rule(rule, n):
    """Path points a_k in [0,1] and weights w_k (summing to 1) of an IG quadrature rule."""
    if rule == "gausslegendre":
        x, w = np.polynomial.legendre.leggauss(n)
        return (x + 1) / 2, w / 2
    if rule == "riemann_middle":
        return (np.arange(n) + 0.5) / n, np.full(n, 1.0 / n)
    raise ValueError(rule)


def gradient_methods(m64, rec, pad_id):
    """Gradient methods of conventions.md for the predicted class, in float64 PyTorch, with respect
    to the word-embedding output e: model(inputs_embeds=e) is exactly the model of e (BertEmbeddings
    adds token type and position embeddings to inputs_embeds, then LayerNorm).

    Returns (probability target record, logit target record)."""
    ids = torch.tensor([rec["input_ids"]])
    S = ids.shape[1]
    special = torch.tensor(rec["special_tokens_mask"], dtype=torch.bool)
    mask = torch.tensor([rec["attention_mask"]])
    types = torch.zeros_like(ids)
    emb = m64.bert.embeddings.word_embeddings
    with torch.no_grad():
        e = emb(ids)[0]                          # [S, H] float64
        pad_row = emb(torch.tensor([pad_id]))[0]  # [H]
        logits = m64(input_ids=ids, attention_mask=mask, token_type_ids=types).logits[0]
    cls = int(torch.argmax(logits))
    assert LABELS[cls] == rec["predicted_label"], (LABELS[cls], rec["predicted_label"])

    def f(E, target):
        """Target of a batch of embeddings [B, S, H] -> [B]."""
        B = E.shape[0]
        out = m64(inputs_embeds=E, attention_mask=mask.expand(B, S), token_type_ids=types.expand(B, S)).logits
        return out[:, cls] if target == "logit" else torch.softmax(out, dim=-1)[:, cls]

    def value_grad(E, target):
        E = E.detach().clone().requires_grad_(True)
        v = f(E, target)
        (g,) = torch.autograd.grad(v.sum(), E)
        return v.detach(), g.detach()

    def zero_special(a):
        a = a.clone()
        a[special] = 0
        return a

    def ig(target, baseline, rule, fx):
        base = (pad_row.expand(S, -1) if baseline == "pad" else torch.zeros_like(e)).clone()
        base[special] = e[special]  # real embedding at special positions: their attribution is 0
        a, w = ig_rule(rule, IG_STEPS)
        a, w = torch.tensor(a, dtype=torch.float64), torch.tensor(w, dtype=torch.float64)
        path = base + a[:, None, None] * (e - base)  # [steps, S, H]
        _, g = value_grad(path, target)
        avg = (w[:, None, None] * g).sum(0)
        attr = zero_special(((e - base) * avg).sum(-1))
        with torch.no_grad():
            fb = float(f(base[None], target)[0])
        gap = abs(float(attr.sum()) - (fx - fb)) / abs(fx - fb)
        return {"rule": rule, "steps": IG_STEPS, "baseline": baseline, "attributions": [f64(v) for v in attr],
                "baseline_value": f64(fb), "completeness_gap": f64(gap)}

    out = []
    for target in ("probability", "logit"):
        v, g = value_grad(e[None], target)
        fx, g = float(v[0]), g[0]
        # The gradient against central finite differences (float64) at a few coordinates.
        gen = torch.Generator().manual_seed(7)
        for _ in range(6):
            i, h = int(torch.randint(S, (1,), generator=gen)), int(torch.randint(e.shape[1], (1,), generator=gen))
            d = torch.zeros_like(e)
            d[i, h] = 1e-6
            with torch.no_grad():
                fd = float(f(torch.stack([e + d, e - d]), target).diff(dim=0)[0]) / -2e-6
            assert abs(fd - float(g[i, h])) <= 1e-6 * max(1.0, abs(fd)), (target, i, h, fd, float(g[i, h]))
        r = {"target": target, "class": cls, "label": LABELS[cls], "value": f64(fx)}
        if target == "probability":
            r["grad"] = nested(g.numpy(), f64)
        r["saliency"] = [f64(x) for x in zero_special(g.norm(dim=-1))]
        r["gradxinput"] = [f64(x) for x in zero_special((e * g).sum(-1))]
        r["ig"] = ig(target, "pad", "gausslegendre", fx)
        if target == "probability":
            r["ig_zeros"] = ig(target, "zeros", "gausslegendre", fx)
            r["ig_riemann_middle"] = ig(target, "pad", "riemann_middle", fx)
        out.append(r)
    return out


def main():
    tok, model = build_model()
    V = tok.get_vocab_size()
    mask_id = tok.token_to_id("[MASK]")
    for f in ("model.onnx", "model.onnx.data"):
        if os.path.exists(os.path.join(FOLDER, f)):
            os.remove(os.path.join(FOLDER, f))
    opsets = export_dynamo(model, V, os.path.join(FOLDER, "model.onnx"))
    os.makedirs(os.path.join(FOLDER, "fused"), exist_ok=True)
    fused_ops = export_fused(model, os.path.join(FOLDER, "fused", "model_optimized.onnx"))
    model.config.glassbox_fixture = {"description": "Random-weight BERT classifier (initializer_range 0.4, not trained): "
                                     "model.onnx is torch.onnx.export(dynamo=True) with external data; "
                                     "fused/model_optimized.onnx is the legacy export fused by onnxruntime.transformers."}
    model.config.save_pretrained(FOLDER)

    dyn = ort.InferenceSession(os.path.join(FOLDER, "model.onnx"), providers=["CPUExecutionProvider"])
    fus = ort.InferenceSession(os.path.join(FOLDER, "fused", "model_optimized.onnx"), providers=["CPUExecutionProvider"])
    eager = model
    eager.config._attn_implementation = "eager"
    # Gradient references in float64 (a copy: the float32 model above stays as exported).
    m64 = copy.deepcopy(eager).double().eval()
    if hasattr(m64, "set_attn_implementation"):
        m64.set_attn_implementation("eager")
    pad = tok.token_to_id("[PAD]")
    sentences, worst = [], {"dynamo": 0.0, "fused": 0.0}
    for si, text in enumerate(REFERENCE_SENTENCES):
        rec = encoding_record(tok, text)
        t_ids, t_mask = torch.tensor([rec["input_ids"]]), torch.tensor([rec["attention_mask"]])
        types = torch.zeros_like(t_ids)
        with torch.no_grad():
            out = eager(input_ids=t_ids, attention_mask=t_mask, token_type_ids=types, output_attentions=True, return_dict=True)
        logits = out.logits[0].double().numpy()
        feed = {"input_ids": t_ids.numpy(), "attention_mask": t_mask.numpy(), "token_type_ids": types.numpy()}
        worst["dynamo"] = max(worst["dynamo"], float(np.abs(dyn.run(["logits"], feed)[0][0] - logits).max()))
        worst["fused"] = max(worst["fused"], float(np.abs(fus.run(["logits"], feed)[0][0] - logits).max()))
        if len(rec["input_ids"]) <= 24:  # keeps the fixture small
            rec["attentions"] = [nested(a[0].numpy(), g8) for a in out.attentions]
        rec["logits"] = [f64(x) for x in logits]
        rec["probabilities"] = [f64(x) for x in softmax64(logits)]
        rec["predicted_label"] = LABELS[int(np.argmax(logits))]
        if si in ATTRIBUTION_SENTENCES:
            rec["attributions"] = attributions(eager, rec, mask_id)
            rec["gradient_methods"], rec["gradient_methods_logit"] = gradient_methods(m64, rec, pad)
        sentences.append(rec)
    batches = []
    for bi in PADDED_BATCHES:
        encs = [sentences[i] for i in bi]
        b_ids, b_mask = pad_batch(encs, pad)
        with torch.no_grad():
            logits = eager(input_ids=torch.tensor(b_ids), attention_mask=torch.tensor(b_mask),
                           token_type_ids=torch.zeros(len(b_ids), len(b_ids[0]), dtype=torch.long)).logits.double().numpy()
        batches.append({"sentences": bi, "pad_id": pad, "input_ids": b_ids, "attention_mask": b_mask,
                        "logits": nested(logits, f64)})
    assert worst["dynamo"] < 1e-5 and worst["fused"] < 1e-4, worst
    write_json(os.path.join(FOLDER, "reference.json"), {
        "model": "bert-tiny", "generator": "scripts/make_export_fixtures.py", "versions": versions(),
        "task": "sequence_classification", "labels": LABELS, "max_length": MAX_LEN, "pad_id": pad, "mask_id": mask_id,
        "exporter": {"model.onnx": "torch.onnx.export(dynamo=True), external data", "opsets": opsets,
                     "fused/model_optimized.onnx": "torch.onnx.export(dynamo=False, opset 14, transformers<4.58 eager attention) + onnxruntime.transformers.optimizer (bert)",
                     "fused_ops": fused_ops},
        "onnx_vs_pytorch_max_abs_diff": worst["dynamo"], "fused_vs_pytorch_max_abs_diff": worst["fused"],
        "attribution_sentences": ATTRIBUTION_SENTENCES, "gradient_methods_spec": GRADIENT_METHODS_SPEC,
        "sentences": sentences, "padded_batches": batches}, compact=True)
    print("bert-tiny: %d bytes, opsets %s, onnx vs pytorch %s" % (dir_size(FOLDER), opsets, worst))


if __name__ == "__main__":
    main()
