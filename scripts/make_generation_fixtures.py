#!/usr/bin/env python3
"""Generation fixtures and benchmark models (run in optimum-onnx's environment,
.cache/pyenv-optimum: torch 2.x, transformers < 4.58, optimum-onnx).

  .cache/pyenv-optimum/bin/python scripts/make_generation_fixtures.py           # fixtures
  .cache/pyenv-optimum/bin/python scripts/make_generation_fixtures.py --bench   # .cache/bench/gpt2-small-random*

testdata/models/gpt2-tiny/with-past/model.onnx
    The gpt2-tiny fixture's weights exported by optimum-onnx with task
    text-generation-with-past (inputs input_ids, attention_mask, position_ids,
    past_key_values.N.key/value; outputs logits, present.N.key/value). Its
    tokenizer.json and config.json are the parent folder's. The PyTorch model
    is rebuilt from the committed no-past model.onnx's initializers (the weights
    are the same bytes; lm_head is tied to transformer.wte) and checked against
    the parent's reference.json before anything is written.
testdata/models/gpt2-tiny/generation.json
    Greedy continuations by PyTorch's `generate` (do_sample=False, eos 0,
    pad 0) for prompts of different lengths: the generated ids, the
    log-probability of each chosen token under the model (log_softmax of the
    raw logits, before any processor), and the step's top-5 ids; plus one
    stop-string generation (transformers' StopStringCriteria) and a check that
    onnxruntime's with-past export, driven step by step with its cache, gives
    the same tokens; and for two prompts the next-token distribution after
    transformers' sampling warpers (temperature, top-k, top-p in generate's
    order) under four settings: the kept ids and their probabilities.

--bench writes two GPT-2-small-sized random models (12 layers, 768 hidden,
12 heads, vocab 50257, seed 7) with the gpt2-tiny tokenizer, never committed:
.cache/bench/gpt2-small-random/model.onnx (optimum task text-generation, no
past) and .cache/bench/gpt2-small-random/with-past/model.onnx (text-generation-with-past).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FOLDER = os.path.join(ROOT, "testdata", "models", "gpt2-tiny")
BENCH = os.path.join(ROOT, ".cache", "bench", "gpt2-small-random")

# Prompts: different token lengths (some share a length, so a batch has several rows), one that
# reaches <|endoftext|> within MAX_NEW greedily, one long.
PROMPTS = [
    "Good.",
    "I do not like this at all.",
    "She walked to the window and",
    "She looked out of the window and",
    "I do not think so at all.",
    "Her mother was",
    "The dinner was",
    "It was a truly miserable day, and",
    "Mr. Darcy's manners were proud, but his heart was good. Elizabeth",
    "Emma Woodhouse, handsome, clever, and rich, with a comfortable home and happy disposition, seemed to",
]
MAX_NEW = 16
STOP_STRINGS = [" had", "been been"]
TOP = 5
# (temperature, top_k, top_p) whose filtered distributions transformers' warpers give (0 / 1: off).
WARPER_SETTINGS = [(1.0, 50, 1.0), (0.7, 20, 0.9), (1.3, 0, 0.5), (2.0, 8, 0.95)]


def f64(x):
    return float(np.float64(x))


def rebuild_tiny():
    """GPT2LMHeadModel with the committed ONNX fixture's weights."""
    from transformers import GPT2Config, GPT2LMHeadModel
    cfg = GPT2Config.from_pretrained(FOLDER)
    model = GPT2LMHeadModel(cfg).eval()
    m = onnx.load(os.path.join(FOLDER, "model.onnx"))
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in m.graph.initializer}
    sd = model.state_dict()
    loaded = 0
    for name in sd:
        if name in inits:
            assert tuple(sd[name].shape) == inits[name].shape, name
            sd[name] = torch.from_numpy(inits[name].copy())
            loaded += 1
    model.load_state_dict(sd)
    model.tie_weights()
    # Every parameter but the tied lm_head (and the non-persistent attention biases) came from the graph.
    named = [n for n, _ in model.named_parameters()]
    missing = [n for n in named if n not in inits and n != "lm_head.weight"]
    assert not missing, missing
    ref = json.load(open(os.path.join(FOLDER, "reference.json")))
    worst = 0.0
    for s in ref["sentences"]:
        with torch.no_grad():
            out = model(input_ids=torch.tensor([s["input_ids"]])).logits[0, -1].double().numpy()
        worst = max(worst, float(np.abs(out - np.array(s["last_logits"])).max()))
    print("rebuilt gpt2-tiny: %d tensors from model.onnx, max |logits - reference| = %.3g" % (loaded, worst))
    assert worst < 1e-5, worst
    return model


def tokenizer_fast():
    from transformers import PreTrainedTokenizerFast
    return PreTrainedTokenizerFast(tokenizer_file=os.path.join(FOLDER, "tokenizer.json"),
                                   eos_token="<|endoftext|>", bos_token="<|endoftext|>", unk_token="<|endoftext|>")


def optimum_export(model, tok, out_dir, task):
    """Saves model (+ tokenizer) to a scratch checkpoint and exports it with optimum-onnx."""
    from optimum.exporters.onnx import main_export
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        model.save_pretrained(src)
        tok.save_pretrained(src)
        out = os.path.join(tmp, "out")
        main_export(src, output=out, task=task, opset=14, do_validation=False, no_post_process=True)
        os.makedirs(out_dir, exist_ok=True)
        files = [f for f in os.listdir(out) if f.endswith(".onnx") or f.endswith(".onnx_data") or f.endswith(".onnx.data")]
        for f in files:
            shutil.copy(os.path.join(out, f), os.path.join(out_dir, f))
        return files


def strip_doc(path):
    m = onnx.load(path)
    for n in m.graph.node:
        n.doc_string = ""
    m.producer_version = ""
    onnx.save(m, path)


def ort_greedy_with_past(path, ids, max_new, eos):
    """Greedy generation through the with-past export, one token per step after the prompt."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    past_in = [i for i in sess.get_inputs() if i.name.startswith("past_key_values.")]
    outs = [o.name for o in sess.get_outputs()]
    feed_ids = np.array([ids], dtype=np.int64)
    past = {p.name: np.zeros((1, p.shape[1], 0, p.shape[3]), dtype=np.float32) for p in past_in}
    n, gen = 0, []
    for _ in range(max_new):
        s = feed_ids.shape[1]
        feed = {"input_ids": feed_ids, "attention_mask": np.ones((1, n + s), dtype=np.int64)}
        if "position_ids" in names:
            feed["position_ids"] = np.arange(n, n + s, dtype=np.int64)[None]
        feed.update(past)
        res = dict(zip(outs, sess.run(outs, feed)))
        tok = int(np.argmax(res["logits"][0, -1]))
        gen.append(tok)
        n += s
        past = {p.name: res[p.name.replace("past_key_values", "present")] for p in past_in}
        feed_ids = np.array([[tok]], dtype=np.int64)
        if tok == eos:
            break
    return gen, names, outs


def make_fixtures():
    import transformers
    import optimum
    torch.manual_seed(0)
    model = rebuild_tiny()
    tok = tokenizer_fast()
    eos = model.config.eos_token_id
    out_dir = os.path.join(FOLDER, "with-past")
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    files = optimum_export(model, tok, out_dir, "text-generation-with-past")
    assert files == ["model.onnx"], files
    path = os.path.join(out_dir, "model.onnx")
    strip_doc(path)

    gens = []
    for text in PROMPTS:
        ids = tok(text)["input_ids"]
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                 max_new_tokens=MAX_NEW, do_sample=False, eos_token_id=eos, pad_token_id=eos,
                                 output_logits=True, return_dict_in_generate=True)
        new = [int(t) for t in out.sequences[0, len(ids):]]
        steps = []
        for j, t in enumerate(new):
            lp = torch.log_softmax(out.logits[j][0].double(), -1)
            top = torch.argsort(-out.logits[j][0], stable=True)[:TOP]
            steps.append({"token_id": t, "logprob": f64(lp[t]), "top_ids": [int(i) for i in top]})
        # Independent check: full passes over prompt + generated tokens give the same argmaxes.
        with torch.no_grad():
            full = model(out.sequences).logits[0].double()
        for j, t in enumerate(new):
            assert int(torch.argmax(full[len(ids) - 1 + j])) == t
        ort_ids, in_names, out_names = ort_greedy_with_past(path, ids, MAX_NEW, eos)
        assert ort_ids == new, (text, ort_ids, new)
        gens.append({"prompt": text, "prompt_ids": ids, "generated_ids": new,
                     "stop": "eos" if new and new[-1] == eos else "max_new_tokens",
                     "text": tok.decode(new, skip_special_tokens=True), "steps": steps})
    assert any(g["stop"] == "eos" for g in gens), "no prompt reaches <|endoftext|>; pick another"
    stops = []
    for text in ["She walked to the window and", "The dinner was"]:
        ids = tok(text)["input_ids"]
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                 max_new_tokens=MAX_NEW, do_sample=False, eos_token_id=eos, pad_token_id=eos,
                                 stop_strings=STOP_STRINGS, tokenizer=tok)
        new = [int(t) for t in out[0, len(ids):]]
        stops.append({"prompt": text, "prompt_ids": ids, "stop_strings": STOP_STRINGS, "generated_ids": new,
                      "text": tok.decode(new, skip_special_tokens=True)})
    warped = []
    from transformers.generation.logits_process import (TemperatureLogitsWarper, TopKLogitsWarper,
                                                        TopPLogitsWarper)
    for text in ["She walked to the window and", "Her mother was"]:
        ids = tok(text)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[:, -1]
        for temperature, top_k, top_p in WARPER_SETTINGS:
            # The order of transformers' _get_logits_processor: temperature, top-k, top-p.
            scores = logits.clone()
            for w in [TemperatureLogitsWarper(temperature), TopKLogitsWarper(top_k) if top_k > 0 else None,
                      TopPLogitsWarper(top_p) if top_p < 1 else None]:
                if w is not None:
                    scores = w(torch.tensor([ids]), scores)
            probs = torch.softmax(scores[0].double(), -1)
            kept = [int(i) for i in torch.argsort(-probs, stable=True) if probs[i] > 0]
            # A top-p cut within rounding of the boundary would make the support depend on float order.
            sp = torch.sort(torch.softmax(logits[0].double() / temperature, -1), descending=True).values
            if top_k > 0:
                sp = sp[:top_k] / sp[:top_k].sum()
            gap = float((torch.cumsum(sp, 0) - top_p).abs().min()) if top_p < 1 else 1.0
            assert gap > 1e-4, (text, temperature, top_k, top_p, gap)
            warped.append({"prompt_ids": ids, "temperature": temperature, "top_k": top_k, "top_p": top_p,
                           "kept_ids": kept, "kept_probs": [f64(probs[i]) for i in kept]})
    ref = {
        "model": "gpt2-tiny",
        "generator": "scripts/make_generation_fixtures.py",
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "transformers": transformers.__version__, "onnx": onnx.__version__,
                     "onnxruntime": ort.__version__, "numpy": np.__version__},
        "settings": {"max_new_tokens": MAX_NEW, "do_sample": False, "eos_token_id": eos, "pad_token_id": eos,
                     "top_ids": TOP},
        "with_past": {"path": "with-past/model.onnx", "exporter": "optimum-onnx main_export, task "
                      "text-generation-with-past, opset 14", "inputs": in_names, "outputs": out_names},
        "greedy": gens,
        "stop_strings": stops,
        "sampling_distributions": warped,
    }
    with open(os.path.join(FOLDER, "generation.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print("with-past export: %d bytes; inputs %s" % (os.path.getsize(path), in_names))
    for g in gens:
        print("  %-3d -> %2d tokens (%s) %r" % (len(g["prompt_ids"]), len(g["generated_ids"]), g["stop"], g["text"]))
    for s in stops:
        print("  stop %r: %r" % (s["stop_strings"], s["text"]))


def make_bench():
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(7)
    tok = tokenizer_fast()
    cfg = GPT2Config(vocab_size=50257, n_embd=768, n_layer=12, n_head=12, n_positions=1024,
                     bos_token_id=0, eos_token_id=0)
    cfg.architectures = ["GPT2LMHeadModel"]
    model = GPT2LMHeadModel(cfg).eval()
    if os.path.isdir(BENCH):
        shutil.rmtree(BENCH)
    optimum_export(model, tok, BENCH, "text-generation")
    optimum_export(model, tok, os.path.join(BENCH, "with-past"), "text-generation-with-past")
    cfg.save_pretrained(BENCH)
    shutil.copy(os.path.join(FOLDER, "tokenizer.json"), BENCH)
    shutil.copy(os.path.join(FOLDER, "tokenizer_config.json"), BENCH)
    print("bench models in %s" % BENCH)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", action="store_true", help="write the GPT-2-small-sized benchmark models under .cache/bench")
    args = ap.parse_args()
    if args.bench:
        make_bench()
    else:
        make_fixtures()


if __name__ == "__main__":
    main()
