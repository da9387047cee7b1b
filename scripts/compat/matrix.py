"""Runs Glassbox on every export and checks its numbers against the PyTorch reference.

Run with the exports environment after checkpoints.py and exports.py (run.sh does all three)::

    .cache/pyenv-exports/bin/python scripts/compat/matrix.py [ARCH ...]

For each export (``.cache/compat/exports/*/status.json``) and two layout variants it runs:

- **predict**: ``glassbox predict`` → class probabilities equal PyTorch's within 1e-4.
- **perturbation**: ``glassbox explain --methods occlusion,kernelshap`` → every token's
  attribution, f(x) and KernelSHAP's f(empty) equal the reference (reference.py) within 1e-4,
  computed with the masking the run itself chose: each row's ``params.masking`` (and
  ``replace_id``), with the manifest's ``model.attention_mask`` {honoured, evidence} reported
  when the run writes it. KernelSHAP must have enumerated all coalitions (``params.exact``).
- **attention**: ``glassbox explain --methods attention,rollout`` with ``attention_matrices:
  {first_n: 3}`` → every attention-*.parquet matrix (each head and the head average) equals
  PyTorch's ``output_attentions`` within 1e-5, and so do the attention and rollout rows (query
  position per the conventions). On a graph with a fused attention op Glassbox must refuse,
  naming it: "refused (fused)" is the expected result there.
- **gradients**: ``glassbox explain --methods saliency,gradxinput,ig`` (IG's defaults: 50
  Gauss–Legendre points, pad baseline; target = the predicted class's probability) → every
  token's attribution equals the float64 PyTorch reference (reference.Reference.gradients:
  autograd with respect to the word-embedding lookup's output) within 1e-3 × the row's largest
  |attribution|, f(x) and IG's f(baseline) within 1e-4; each IG row's ``quality`` (completeness
  gap) is recorded, the worst shown in the cell. On a graph with fused ops (-O2: any op outside
  the default ONNX domain, not only fused attention) Glassbox may differentiate them or refuse
  naming the op: a refusal naming one of the graph's fused ops is shown as "✗ error: …" and
  does not count as a failure; any other error does.

Independently of Glassbox it also asks onnxruntime (Python) whether each graph honours a 0 in
attention_mask (reference.ort_masking_probe), so a masking choice can be judged.

It prints the Markdown table and a details section (max abs differences, Glassbox's messages,
the manifest's model section and warnings) to stdout and writes them to
``.cache/compat/matrix.md`` (and the raw results to ``matrix.json``). Exit code 1 when any check
that should pass did not (exports an exporter cannot make and expected refusals do not count).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import glassbox  # noqa: E402
from common import (ARCHS, CACHE, EXPORTERS, EXPORTS, GRADIENT_METHODS, IG_DEFAULTS, PY_OPTIMUM, RUNS,  # noqa: E402
                    SENTENCES, TOL_ATTENTION, TOL_GRADIENT_REL, TOL_PERTURBATION, TOL_PREDICT, ExportStatus,
                    Exporter, contrib_ops, export_dir, log, run)
from reference import Reference, max_abs, ort_masking_probe  # noqa: E402

ARCH_LABEL = {
    "bert": "BERT (all-MiniLM-L6-v2)",
    "distilbert": "DistilBERT (tiny)",
    "roberta": "RoBERTa (tiny)",
    "gpt2": "GPT-2 (tiny)",
}
PASS, FAIL, EXPECTED, SKIP, NA = "pass", "fail", "expected", "skip", "na"


@dataclass
class Cell:
    """One table cell: its status (pass/fail/expected/skip/na), what the table shows, and the
    lines the details section lists for it."""

    status: str
    text: str
    details: list = field(default_factory=list)


@dataclass
class Case:
    """One table row: an export and how --model names it."""

    arch: str
    exporter: Exporter
    folder: Path          # the export folder
    model_arg: str        # what --model gets
    variant: str = ""     # "" or how the model is named (file path, hub layout)
    status: ExportStatus | None = None
    cells: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.folder.name + (("+" + self.variant.split()[0]) if self.variant else "")

    @property
    def opset(self) -> str:
        if self.status and self.status.opset is not None:
            default = " (default)" if self.exporter.opset is None else ""
            return f"{self.status.opset}{default}"
        return str(self.exporter.opset) if self.exporter.opset is not None else "default"


def fmt(d: float) -> str:
    return "n/a" if d is None else f"{d:.1e}"


def short_evidence(ev: str) -> str:
    """A few words for the table from the manifest's attention_mask.evidence."""
    e = (ev or "").strip()
    if not e:
        return ""
    if "fused" in e.lower():
        return "fused attention"
    return e if len(e) <= 40 else e[:37] + "…"


def short_error(msg: str) -> str:
    """A few words for the table from a Glassbox error message (the details keep it whole)."""
    import re

    m = re.search(r"unsupported op ([\w.:]+)", msg)
    if m:
        return f"unsupported op {m.group(1).split('::')[-1]}"
    m = re.search(r"no gradient rule for (?:op )?([\w.:]+)", msg)
    if m:
        return f"no gradient rule for {m.group(1).split('::')[-1]}"
    for needle, words in (("external data", "external data"), ("no such file", "file not found"),
                          ("is missing", "file not found"), ("several ONNX files", "several .onnx files")):
        if needle in msg:
            return words
    tail = msg.rsplit(": ", 1)[-1]
    return tail if len(tail) <= 40 else tail[:37] + "…"


# -- checks ------------------------------------------------------------------------------------


def check_predict(case: Case, ref: Reference, texts: Path) -> Cell:
    r, lines = glassbox.predict(case.model_arg, texts)
    if not r.ok:
        return Cell(FAIL, f"✗ error: {short_error(r.error)}", [f"predict failed: {r.error}"])
    if len(lines) != len(SENTENCES):
        return Cell(FAIL, "✗", [f"predict wrote {len(lines)} lines for {len(SENTENCES)} inputs"])
    worst, problems = 0.0, []
    for (sid, text), line in zip(SENTENCES, lines):
        if line.get("error"):
            problems.append(f"{sid}: {line['error']}")
            continue
        want = ref.predict(text)
        d = max_abs(line.get("probs", []), want)
        worst = max(worst, d)
        label = ref.labels[int(want.argmax())]
        if line.get("label") != label and abs(want.max() - 0.5) > 1e-3:
            problems.append(f"{sid}: label {line.get('label')} ≠ PyTorch's {label}")
    det = [f"predict: max |Δp| = {fmt(worst)} over {len(SENTENCES)} sentences (tolerance {TOL_PREDICT:g})"] + problems
    if problems or worst > TOL_PREDICT:
        return Cell(FAIL, f"✗ (Δ {fmt(worst)})", det)
    return Cell(PASS, "✓", det)


def check_perturbation(case: Case, ref: Reference, texts: Path, probe: tuple | None) -> Cell:
    out = RUNS / case.name / "perturbation"
    shutil.rmtree(out, ignore_errors=True)
    run_ = glassbox.explain(case.model_arg, texts, "occlusion,kernelshap", out)
    if not run_.result.ok:
        return Cell(FAIL, f"✗ error: {short_error(run_.result.error)}", [f"explain occlusion,kernelshap failed: {run_.result.error}"])
    det = manifest_lines(run_)
    worst, problems, maskings = compare_perturbation(run_, ref, "eager")
    d = max(worst.values())
    impl_note = ""
    if not problems and d > TOL_PERTURBATION:
        # Where every key of a query row is masked (GPT-2's empty coalition) the model's value
        # depends on transformers' attention implementation; accept the graph following sdpa.
        w2, p2, _ = compare_perturbation(run_, ref, "sdpa")
        if not p2 and max(w2.values()) <= TOL_PERTURBATION:
            impl_note = (f"matches PyTorch with sdpa attention; with eager attention max |Δ| = {fmt(d)}: the two differ only "
                         "where every key of a query row is masked (e.g. the empty coalition of a model without special tokens)")
            worst, d = w2, max(w2.values())
    for method, dm in worst.items():
        det.append(f"{method}: max |Δ| = {fmt(dm)} (attributions, f(x){', f(empty)' if method == 'kernelshap' else ''}; "
                   f"masking {', '.join(sorted(maskings)) or '?'}; tolerance {TOL_PERTURBATION:g})")
    if impl_note:
        det.append(impl_note)
    if probe is not None and "attention" in maskings and not probe[0]:
        problems.append("the run used attention masking but this graph does not honour a 0 in attention_mask (onnxruntime probe)")
    verdict = run_.attention_masking.get("honoured")
    if probe is not None and isinstance(verdict, bool) and verdict != probe[0]:
        det.append(f"note: Glassbox's verdict (honoured={verdict}) disagrees with the onnxruntime probe (honoured={probe[0]})")
    requested = sorted({json.loads(r["params"]).get("masking_requested") for r in run_.rows} - {None})
    if requested:
        det.append(f"masking requested: {', '.join(requested)}; in force: {', '.join(sorted(maskings))}")
    det += problems
    how = "/".join(sorted(maskings))
    if "replace" in maskings:
        why = short_evidence(run_.attention_masking.get("evidence", ""))
        how = f"replace: {why}" if why else "replace"
    if impl_note:
        how += ", sdpa f(∅)"
    if problems or d > TOL_PERTURBATION:
        return Cell(FAIL, f"✗ ({how}; Δ {fmt(d)})", det)
    return Cell(PASS, f"✓ ({how})", det)


def compare_perturbation(run_: glassbox.Run, ref: Reference, impl: str) -> tuple[dict, list, set]:
    """Compares every occlusion and KernelSHAP row with the reference (attention implementation
    ``impl``): returns the worst abs difference per method, structural problems (missing rows,
    other tokens, inexact KernelSHAP, a replace id other than the conventions') and the maskings
    the rows name."""
    problems: list = []
    rows = {(r["example_id"], r["method"]): r for r in run_.rows}
    maskings, worst = set(), {"occlusion": 0.0, "kernelshap": 0.0}
    for sid, text in SENTENCES:
        for method in ("occlusion", "kernelshap"):
            row = rows.get((sid, method))
            if row is None:
                problems.append(f"{sid}/{method}: no row")
                continue
            params = json.loads(row["params"])
            masking = params.get("masking", "attention")
            maskings.add(masking)
            if masking == "replace" and params.get("replace_id") is not None and params["replace_id"] != ref.replace_id:
                problems.append(f"{sid}/{method}: replace_id {params['replace_id']} ≠ the conventions' {ref.replace_id} (mask token, else pad)")
            if row["target"] not in ref.labels:
                problems.append(f"{sid}/{method}: target {row['target']!r} is not a label")
                continue
            target = ref.labels.index(row["target"])
            if method == "occlusion":
                enc, attr, fx = ref.occlusion(text, masking, target, impl)
                extra = {}
            else:
                enc, attr, fx, fempty = ref.shapley(text, masking, target, impl)
                extra = {"baseline_score": fempty}
                if params.get("exact") is False:
                    problems.append(f"{sid}/kernelshap: not exact (budget {params.get('sample_budget')} for {params.get('n_players')} players)")
            toks = row["tokens"]
            if [t["text"] for t in toks] != enc.tokens or [bool(t["special"]) for t in toks] != enc.special:
                problems.append(f"{sid}/{method}: tokens {[t['text'] for t in toks]} ≠ reference {enc.tokens}")
                continue
            got = [t["attribution"] for t in toks]
            d = max(max_abs(got, attr), abs(row["target_score"] - fx))
            for k, v in extra.items():
                d = max(d, abs((row.get(k) if row.get(k) is not None else float("inf")) - v))
            worst[method] = max(worst[method], d)
    return worst, problems, maskings


def manifest_lines(run_: glassbox.Run) -> list[str]:
    """What the run's manifest says about the model (absent fields are said to be absent)."""
    mi = run_.model_info
    if not mi:
        lines = ["manifest: no `model` section (not written by this Glassbox yet)"]
    else:
        am = run_.attention_masking
        verdict = (f"attention_mask honoured={am.get('honoured')} ({am.get('evidence', '')})" if am
                   else "no attention_mask verdict")
        onnx = mi.get("onnx")
        onnx = os.path.relpath(onnx, CACHE.parent.parent) if isinstance(onnx, str) and onnx.startswith("/") else onnx
        lines = [f"manifest model: onnx `{onnx}`, max_length {mi.get('max_length')} ({mi.get('max_length_rule')}), {verdict}"]
    if "warnings" in run_.manifest:
        for w in run_.warnings:
            lines.append(f"manifest warning: {w}")
        if not run_.warnings:
            lines.append("manifest warnings: none")
    else:
        lines.append("manifest: no `warnings` list (not written by this Glassbox yet)")
    return lines


def check_attention(case: Case, ref: Reference, texts: Path, config: Path) -> Cell:
    out = RUNS / case.name / "attention"
    shutil.rmtree(out, ignore_errors=True)
    run_ = glassbox.explain(case.model_arg, texts, "attention,rollout", out, config=config)
    fused = case.status.fused_ops if case.status else []
    if not run_.result.ok:
        msg = run_.result.error
        if fused and "fused" in msg.lower():
            return Cell(EXPECTED, "refused (fused)", [f"attention refused as expected ({', '.join(fused)}): {msg}"])
        return Cell(FAIL, f"✗ error: {short_error(msg)}", [f"explain attention,rollout failed: {msg}"])
    if fused:
        return Cell(FAIL, "✗ (no refusal)", [f"the graph has {', '.join(fused)} but Glassbox did not refuse the attention methods"])
    det, problems = [], []
    first = [sid for sid, _ in SENTENCES[:3]]
    by_sid = {}
    for m in run_.matrices:
        by_sid.setdefault(m["example_id"], []).append(m)
    worst_m = 0.0
    for sid, text in SENTENCES:
        mats = by_sid.get(sid, [])
        if sid not in first:
            if mats:
                problems.append(f"{sid}: matrices written though it is not among the first 3")
            continue
        enc, attn = ref.attentions(text)
        want_n = sum(a.shape[0] + 1 for a in attn)
        if len(mats) != want_n:
            problems.append(f"{sid}: {len(mats)} matrices, want {want_n} (layers × (heads + average))")
        for m in mats:
            layer, head = m["layer"], m["head"]
            if layer >= len(attn) or head >= attn[layer].shape[0]:
                problems.append(f"{sid}: matrix layer {layer} head {head} out of range")
                continue
            if list(m["tokens"]) != enc.tokens:
                problems.append(f"{sid}: matrix tokens {m['tokens']} ≠ {enc.tokens}")
                continue
            want = attn[layer].mean(axis=0) if head < 0 else attn[layer][head]
            n = m["seq_len"]
            got = [m["weights"][i * n:(i + 1) * n] for i in range(n)]
            worst_m = max(worst_m, max_abs(got, want))
    det.append(f"attention matrices: max |Δ| = {fmt(worst_m)} over {sum(len(by_sid.get(s, [])) for s in first)} matrices (tolerance {TOL_ATTENTION:g})")
    rows = {(r["example_id"], r["method"]): r for r in run_.rows}
    worst_r = {"attention": 0.0, "rollout": 0.0}
    wrong_q = []  # (sentence, Glassbox's query position, the conventions')
    for sid, text in SENTENCES:
        enc, attn = ref.attentions(text)
        q = ref.query_position(len(enc.ids))
        for method in ("attention", "rollout"):
            row = rows.get((sid, method))
            if row is None:
                problems.append(f"{sid}/{method}: no row")
                continue
            params = json.loads(row["params"])
            if params.get("query_position", q) != q and method == "rollout":
                wrong_q.append((sid, params.get("query_position"), q))
            if method == "attention":
                layer = params.get("layer", len(attn) - 1)
                head = params.get("head", -1)
                a = attn[layer].mean(axis=0) if head is None or head < 0 else attn[layer][head]
                want = a[q].copy()
            else:
                want = ref.rollout(attn, q)
            for i, s in enumerate(enc.special):
                if s:
                    want[i] = 0.0
            got = [t["attribution"] for t in row["tokens"]]
            worst_r[method] = max(worst_r[method], max_abs(got, want))
    for method, d in worst_r.items():
        det.append(f"{method} rows: max |Δ| = {fmt(d)} (query position per conventions; tolerance {TOL_ATTENTION:g})")
    if wrong_q:
        problems.append("attention and rollout rows use query_position " + ", ".join(f"{g} ({s})" for s, g, _ in wrong_q)
                        + "; the conventions' classification position is " + ", ".join(str(q) for _, _, q in wrong_q)
                        + (" (a decoder: its last real token, where GPT2ForSequenceClassification reads the logits)"
                           if ref.decoder else " (an encoder: the first token)"))
    det += problems
    d = max([worst_m] + list(worst_r.values()))
    if problems or d > TOL_ATTENTION:
        why = "query position; " if wrong_q else ""
        return Cell(FAIL, f"✗ ({why}Δ {fmt(d)})", det)
    return Cell(PASS, "✓", det)


def check_gradients(case: Case, ref: Reference, texts: Path) -> Cell:
    out = RUNS / case.name / "gradients"
    shutil.rmtree(out, ignore_errors=True)
    methods = ",".join(GRADIENT_METHODS)
    run_ = glassbox.explain(case.model_arg, texts, methods, out)
    # Fused ops: the fused attention ops status.json lists, and every other op outside the default
    # domain (optimum's -O2 writes com.microsoft::SkipLayerNormalization, FastGelu, … even
    # where it fuses no attention).
    fused = list(case.status.fused_ops if case.status else [])
    try:
        fused = sorted(set(fused) | set(contrib_ops(onnx_path(case))))
    except Exception as e:  # information only
        det0 = [f"could not list the graph's ops: {type(e).__name__}: {e}"]
    else:
        det0 = []
    if not run_.result.ok:
        msg = run_.result.error
        named = [op for op in fused if op in msg]
        if named:
            return Cell(EXPECTED, f"✗ error: {short_error(msg)}",
                        det0 + [f"gradients refused on a fused op (graph's fused ops: {', '.join(fused)}; the message names "
                                f"{', '.join(named)}; not counted as a failure): {msg}"])
        return Cell(FAIL, f"✗ error: {short_error(msg)}", det0 + [f"explain {methods} failed: {msg}"])
    det, problems = det0, []
    if fused:
        det.append(f"gradients ran on a graph with fused ops ({', '.join(fused)})")
    rows = {(r["example_id"], r["method"]): r for r in run_.rows}
    worst = {m: (0.0, "") for m in GRADIENT_METHODS}       # relative Δ, where
    worst_abs = {m: 0.0 for m in GRADIENT_METHODS}
    worst_f, gaps, ref_gaps = 0.0, [], []
    for sid, text in SENTENCES:
        p = ref.predict(text)
        want_label = ref.labels[int(p.argmax())]
        for method in GRADIENT_METHODS:
            row = rows.get((sid, method))
            if row is None:
                problems.append(f"{sid}/{method}: no row")
                continue
            if row["target"] not in ref.labels:
                problems.append(f"{sid}/{method}: target {row['target']!r} is not a label")
                continue
            if row["target"] != want_label and abs(p.max() - 0.5) > 1e-3:
                problems.append(f"{sid}/{method}: target {row['target']} is not PyTorch's predicted class {want_label}")
            params = json.loads(row["params"])
            if params.get("output", "probability") != "probability":
                problems.append(f"{sid}/{method}: output {params.get('output')!r}, want probability")
            if method == "ig":
                off = {k: params.get(k) for k, v in IG_DEFAULTS.items() if params.get(k) != v}
                if off:
                    problems.append(f"{sid}/ig: params {off} ≠ the defaults {IG_DEFAULTS} the reference computes")
            g = ref.gradients(text, ref.labels.index(row["target"]), IG_DEFAULTS["steps"])
            toks = row["tokens"]
            if [t["text"] for t in toks] != g.enc.tokens or [bool(t["special"]) for t in toks] != g.enc.special:
                problems.append(f"{sid}/{method}: tokens {[t['text'] for t in toks]} ≠ reference {g.enc.tokens}")
                continue
            want = getattr(g, method)
            d = max_abs([t["attribution"] for t in toks], want)
            scale = float(max(abs(want).max(), 0.0)) if len(want) else 0.0
            rel = d / scale if scale > 0 else (0.0 if d == 0 else float("inf"))
            worst_abs[method] = max(worst_abs[method], d)
            if rel > worst[method][0]:
                worst[method] = (rel, sid)
            worst_f = max(worst_f, abs(row["target_score"] - g.fx))
            if method == "ig":
                if row.get("baseline_score") is None:
                    problems.append(f"{sid}/ig: no baseline_score")
                else:
                    worst_f = max(worst_f, abs(row["baseline_score"] - g.f_base))
                ref_gaps.append(g.gap)
                if row.get("quality") is None:
                    problems.append(f"{sid}/ig: no quality (completeness gap) on the row")
                else:
                    gaps.append((row["quality"], sid))
    for m in GRADIENT_METHODS:
        rel, sid = worst[m]
        det.append(f"{m}: max |Δ| / max |a| = {fmt(rel)}{f' ({sid})' if sid else ''}, max |Δ| = {fmt(worst_abs[m])} "
                   f"(tolerance {TOL_GRADIENT_REL:g} relative to the row's largest |attribution|)")
    det.append(f"f(x) and IG's f(baseline): max |Δ| = {fmt(worst_f)} (tolerance {TOL_PREDICT:g})")
    worst_gap = max(gaps) if gaps else None
    if gaps:
        det.append("ig quality (completeness gap): " + ", ".join(f"{s} {fmt(q)}" for q, s in gaps)
                   + f"; worst {fmt(worst_gap[0])} ({worst_gap[1]}); PyTorch float64 at the same points: worst "
                   + fmt(max(ref_gaps)))
    det += problems
    d = max(rel for rel, _ in worst.values())
    gap_txt = f"; gap {fmt(worst_gap[0])}" if worst_gap else ""
    if problems or d > TOL_GRADIENT_REL or worst_f > TOL_PREDICT:
        return Cell(FAIL, f"✗ (Δ {fmt(d)} rel{gap_txt})", det)
    return Cell(PASS, f"✓ (gap {fmt(worst_gap[0])})" if worst_gap else "✓", det)


# -- cases -------------------------------------------------------------------------------------


def hub_layout(src: Path) -> Path:
    """A copy of an optimum export in the hub repositories' layout: tokenizer and config at the
    top, the graph as onnx/model.onnx."""
    dst = EXPORTS / (src.name.replace("-optimum-", "-optimum_hub-"))
    shutil.rmtree(dst, ignore_errors=True)
    (dst / "onnx").mkdir(parents=True)
    for f in src.iterdir():
        if f.name == "model.onnx":
            try:
                os.link(f, dst / "onnx" / "model.onnx")
            except OSError:
                shutil.copy(f, dst / "onnx" / "model.onnx")
        elif f.suffix in (".json", ".txt") and f.name != "status.json":
            shutil.copy(f, dst / f.name)
    shutil.copy(src / "status.json", dst / "status.json")
    return dst


def cases(archs: list[str]) -> list[Case]:
    out = []
    for arch in archs:
        for ex in EXPORTERS:
            d = export_dir(arch, ex)
            st = ExportStatus.read(d)
            out.append(Case(arch, ex, d, str(d), status=st))
            if arch == "bert" and ex.key == "optimum_O2-default" and st and st.ok:
                out.append(Case(arch, ex, d, str(d / st.onnx), variant=f"file path --model …/{st.onnx}", status=st))
            if arch == "bert" and ex.key == "optimum-default" and st and st.ok:
                hub = hub_layout(d)
                out.append(Case(arch, ex, hub, str(hub), variant="hub layout onnx/model.onnx", status=st))
    return out


def onnx_path(case: Case) -> Path:
    """The ONNX file a case's --model resolves to."""
    if case.variant.startswith("hub"):
        return case.folder / "onnx" / "model.onnx"
    return case.folder / case.status.onnx


def run_case(case: Case, ref: Reference, texts: Path, config: Path) -> None:
    st = case.status
    if st is None:
        for c in ("predict", "perturbation", "attention", "gradients"):
            case.cells[c] = Cell(FAIL, "✗ no export", [f"{case.folder} has no status.json: run exports.py"])
        return
    if not st.ok:
        label = "= default" if "same as" in st.reason else "skipped"
        for c in ("predict", "perturbation", "attention", "gradients"):
            case.cells[c] = Cell(SKIP, label)
        case.notes.append(f"not made: {st.reason}")
        return
    if st.fused_ops:
        case.notes.append(f"fused attention ops: {', '.join(st.fused_ops)}")
    case.notes += st.notes
    probe = None
    try:
        probe = ort_masking_probe(onnx_path(case), ref, SENTENCES[2][1])
        case.notes.append(f"onnxruntime probe, attention_mask honoured: {'yes' if probe[0] else 'NO'} ({probe[2]})")
    except Exception as e:  # the probe is information, never a check of Glassbox
        case.notes.append(f"onnxruntime probe failed: {type(e).__name__}: {str(e)[:200]}")
    for name, fn in (("predict", lambda: check_predict(case, ref, texts)),
                     ("perturbation", lambda: check_perturbation(case, ref, texts, probe)),
                     ("attention", lambda: check_attention(case, ref, texts, config)),
                     ("gradients", lambda: check_gradients(case, ref, texts))):
        t0 = time.time()
        try:
            case.cells[name] = fn()
        except Exception as e:
            case.cells[name] = Cell(FAIL, "✗ script error", [f"{name}: {type(e).__name__}: {e}", traceback.format_exc(limit=3)])
        log(f"  {case.name} {name}: {case.cells[name].text} ({time.time() - t0:.1f}s)")


# -- report ------------------------------------------------------------------------------------


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    def v(p):
        try:
            return version(p)
        except PackageNotFoundError:
            return "?"

    opt = run([PY_OPTIMUM, "-c", "from importlib.metadata import version as v; print(v('optimum-onnx'), v('transformers'), v('torch'))"], timeout=120)
    o = opt.stdout.split() if opt.returncode == 0 else ["?", "?", "?"]
    return (f"{glassbox.version()}; reference and torch exports: torch {v('torch')}, transformers {v('transformers')}, "
            f"onnx {v('onnx')}, onnxscript {v('onnxscript')}, onnxruntime (probe) {v('onnxruntime')}; "
            f"optimum exports: optimum-onnx {o[0]}, transformers {o[1]}, torch {o[2]}")


def gradient_summary(all_cases: list[Case]) -> list[str]:
    """The gradients column over all exports: worst relative difference per method, worst IG
    completeness gap, and the errors (from the cells' structured details)."""
    import re

    worst: dict = {}
    gap, errors = None, []
    for c in all_cases:
        cell = c.cells.get("gradients")
        if cell is None or cell.status in (SKIP, NA):
            continue
        where = c.name
        for d in cell.details:
            m = re.match(r"(saliency|gradxinput|ig): max \|Δ\| / max \|a\| = ([^ ]+)(?: \((\w+)\))?", str(d))
            if m and m.group(2) != "n/a":
                v = float(m.group(2))
                if v >= worst.get(m.group(1), (-1.0, ""))[0]:
                    worst[m.group(1)] = (v, f"{where} {m.group(3) or ''}".strip())
            m = re.search(r"; worst ([^ ]+) \((\w+)\); PyTorch", str(d))
            if m and (gap is None or float(m.group(1)) >= gap[0]):
                gap = (float(m.group(1)), f"{where} {m.group(2)}")
        if cell.text.startswith("✗ error"):
            errors.append(f"{where}: {cell.details[0] if cell.details else cell.text}")
    if not worst and not errors:
        return []
    lines = ["Gradients over all exports: " + "; ".join(f"{m} worst max |Δ| / max |a| = {fmt(v)} ({w})" for m, (v, w) in worst.items())
             + (f"; worst IG completeness gap {fmt(gap[0])} ({gap[1]})" if gap else "") + "."]
    if errors:
        lines += ["", "Gradient errors:", ""] + [f"- {e}" for e in errors]
    return lines


def render(all_cases: list[Case], header: str) -> str:
    cols = ("predict", "perturbation", "attention", "gradients")
    lines = ["# Glassbox compatibility matrix", "", header, "",
             "| architecture | exporter | opset | " + " | ".join(cols) + " |",
             "|---|---|---|" + "---|" * len(cols)]
    for c in all_cases:
        exporter = c.exporter.label + (f" ({c.variant})" if c.variant else "")
        lines.append(f"| {ARCH_LABEL[c.arch]} | {exporter} | {c.opset} | " + " | ".join(c.cells[k].text for k in cols) + " |")
    lines += ["",
              f"✓ = equals the PyTorch reference (predict within {TOL_PREDICT:g}, perturbation within {TOL_PERTURBATION:g}, "
              f"attention within {TOL_ATTENTION:g}, gradients (saliency, gradxinput, ig) within {TOL_GRADIENT_REL:g} × the row's "
              "largest |attribution|); in parentheses, the masking the run chose (replace: why) and, for gradients, the "
              "worst IG completeness gap (row `quality`). "
              "refused (fused) = Glassbox refused the attention methods on fused attention, the expected result. "
              "✗ = a mismatch or an error (see details); in the gradients column, \"✗ error: …\" on a graph with fused ops (-O2) "
              "whose message names one of them (an op outside the default ONNX domain) is recorded, not counted as a failure. "
              "skipped = the exporter cannot make this combination; "
              "= default = the same file as the default-opset export.",
              ""] + gradient_summary(all_cases) + ["", "## Details", ""]
    for c in all_cases:
        lines.append(f"### {ARCH_LABEL[c.arch]} / {c.exporter.label}{(' (' + c.variant + ')') if c.variant else ''} / opset {c.opset}")
        lines.append("")
        lines.append(f"- export: `{c.folder.relative_to(CACHE.parent.parent)}` — {c.exporter.how}; --model `{os.path.relpath(c.model_arg, CACHE.parent.parent)}`")
        for n in c.notes:
            lines.append(f"- {n}")
        for k in cols:
            for d in c.cells[k].details:
                for i, part in enumerate(str(d).rstrip().splitlines()):
                    lines.append(("- " if i == 0 else "  ") + f"{part}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    archs = [a for a in argv if not a.startswith("--")] or ARCHS
    RUNS.mkdir(parents=True, exist_ok=True)
    texts = RUNS / "texts.jsonl"
    texts.write_text("".join(json.dumps({"id": sid, "text": t}) + "\n" for sid, t in SENTENCES))
    config = RUNS / "attention.yaml"
    config.write_text("# glassbox explain config of the attention check\nattention_matrices:\n  first_n: 3\nshards: 1\n")
    t0 = time.time()
    all_cases = cases(archs)
    refs: dict[str, Reference] = {}
    for case in all_cases:
        if case.arch not in refs:
            log(f"reference {case.arch}")
            refs[case.arch] = Reference(case.arch)
        log(f"case {case.name}")
        run_case(case, refs[case.arch], texts, config)
    header = (f"Generated {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by `scripts/compat/run.sh` "
              f"in {time.time() - t0:.0f}s of checks. {versions()}. Sentences: "
              + "; ".join(f"{sid} {t!r}" for sid, t in SENTENCES) + ".")
    md = render(all_cases, header)
    (CACHE / "matrix.md").write_text(md + "\n")
    (CACHE / "matrix.json").write_text(json.dumps([
        {"arch": c.arch, "exporter": c.exporter.key, "variant": c.variant, "model": c.model_arg, "opset": c.opset,
         "notes": c.notes, "cells": {k: asdict(v) for k, v in c.cells.items()}} for c in all_cases], indent=2, ensure_ascii=False) + "\n")
    print(md)
    failed = [f"{c.name}/{k}" for c in all_cases for k, v in c.cells.items() if v.status == FAIL]
    if failed:
        log(f"{len(failed)} check(s) failed: {', '.join(failed)}")
        return 1
    log("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
