"""Makes every ONNX export of the matrix, the way users make them.

Run with the exports environment (it starts the optimum environment's ``optimum-cli`` itself)::

    .cache/pyenv-exports/bin/python scripts/compat/exports.py [--fresh] [ARCH ...]

For each architecture (checkpoints from checkpoints.py) and each exporter of
``common.EXPORTERS`` it writes ``.cache/compat/exports/<arch>-<exporter>-<opset>/`` in Hugging
Face layout — the ONNX file(s), ``tokenizer.json``, ``config.json``, ``tokenizer_config.json`` —
and a ``status.json`` (``common.ExportStatus``) saying whether the exporter made it, which file
is the graph, its opset and any fused attention ops. An existing ``status.json`` means the
export is done (``--fresh`` redoes them all).

Exporters:
- ``optimum-default`` / ``optimum-14`` / ``optimum-18``: ``optimum-cli export onnx --task
  text-classification`` (optimum-onnx, transformers 4.x), at its default opset or the one named.
  When the default resolves to the same opset as an explicit variant, the explicit one is not
  repeated (its status says so).
- ``optimum_O2-default``: ``optimum-cli onnxruntime optimize -O2`` over the default export:
  ``model_optimized.onnx``, with com.microsoft fused ops where ONNX Runtime's fusions match.
- ``dynamo-default`` / ``dynamo-18``: ``torch.onnx.export(..., dynamo=True)`` with today's defaults
  (external data: ``model.onnx`` + ``model.onnx.data``), and with ``opset_version=18``.
- ``legacy-14`` / ``legacy-17``: the TorchScript exporter, ``dynamo=False``.

The torch exports wrap the classifier as most users do for ONNX (inputs ``input_ids``,
``attention_mask``, plus ``token_type_ids`` for BERT; output ``logits``; dynamic batch and
sequence axes), load it with transformers' default attention implementation and export in a
subprocess each, so one exporter crash never stops the others.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (ARCHS, CHECKPOINTS, EXPORTERS, EXPORTS, OPTIMUM_CLI, PY_EXPORTS, ExportStatus,  # noqa: E402
                    Exporter, export_dir, inspect_onnx, log, run)

#: Files copied from the checkpoint into torch exports (optimum writes its own).
HF_FILES = ("tokenizer.json", "config.json", "tokenizer_config.json", "special_tokens_map.json")


def last_error(text: str, limit: int = 300) -> str:
    """The most telling line of an exporter's failure output, shortened for the table's details."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for key in ("Error:", "Exception:", "error:"):
        hits = [l for l in lines if key in l]
        if hits:
            return hits[-1][:limit]
    return (lines[-1] if lines else "no output")[:limit]


def finish(d: Path, onnx_name: str, notes: list[str] | None = None) -> ExportStatus:
    """Records a made export: the graph's file, opset and fused attention ops."""
    opset, fused = inspect_onnx(d / onnx_name)
    st = ExportStatus(ok=True, onnx=onnx_name, opset=opset, fused_ops=fused, notes=notes or [])
    st.write(d)
    return st


def export_optimum(arch: str, ex: Exporter, d: Path) -> ExportStatus:
    """``optimum-cli export onnx`` into d (validation against PyTorch is optimum's own)."""
    cmd = [OPTIMUM_CLI, "export", "onnx", "--model", CHECKPOINTS / arch, "--task", "text-classification"]
    if ex.opset is not None:
        cmd += ["--opset", str(ex.opset)]
    cmd.append(d)
    p = run(cmd, timeout=900)
    notes = []
    if not (d / "model.onnx").exists():
        return fail(d, f"optimum-cli export onnx failed (exit {p.returncode}): {last_error(p.stderr + p.stdout)}", p)
    if p.returncode != 0:
        notes.append(f"optimum-cli exited {p.returncode} after writing model.onnx: {last_error(p.stderr + p.stdout)}")
    (d / "export.log").write_text(p.stdout + p.stderr)
    return finish(d, "model.onnx", notes)


def export_optimum_o2(arch: str, d: Path, base: Path) -> ExportStatus:
    """``optimum-cli onnxruntime optimize -O2`` of the default optimum export into d."""
    bst = ExportStatus.read(base)
    if bst is None or not bst.ok:
        return fail(d, f"no optimum export to optimise ({base.name} failed)")
    p = run([OPTIMUM_CLI, "onnxruntime", "optimize", "--onnx_model", base, "-O2", "-o", d], timeout=900)
    if not (d / "model_optimized.onnx").exists():
        return fail(d, f"optimum-cli onnxruntime optimize -O2 failed (exit {p.returncode}): {last_error(p.stderr + p.stdout)}", p)
    (d / "export.log").write_text(p.stdout + p.stderr)
    st = finish(d, "model_optimized.onnx")
    if not st.fused_ops:
        st.notes.append("ONNX Runtime's -O2 fusions did not match this graph's attention: no fused attention op")
        st.write(d)
    return st


def export_torch(arch: str, ex: Exporter, d: Path) -> ExportStatus:
    """``torch.onnx.export`` (dynamo or legacy) in a subprocess, then the checkpoint's HF files."""
    mode = "dynamo" if ex.name == "dynamo" else "legacy"
    opset = "" if ex.opset is None else str(ex.opset)
    p = run([PY_EXPORTS, Path(__file__), "--torch-one", arch, mode, opset, d], timeout=900)
    (d / "export.log").write_text(p.stdout + p.stderr)
    if p.returncode != 0 or not (d / "model.onnx").exists():
        return fail(d, f"torch.onnx.export(dynamo={mode == 'dynamo'}) failed: {last_error(p.stderr + p.stdout)}", p)
    for f in HF_FILES:
        if (CHECKPOINTS / arch / f).exists():
            shutil.copy(CHECKPOINTS / arch / f, d / f)
    notes = [l[len("NOTE: "):] for l in p.stdout.splitlines() if l.startswith("NOTE: ")]
    return finish(d, "model.onnx", notes)


def fail(d: Path, reason: str, p=None, skipped: bool = True) -> ExportStatus:
    """Records an export that was not made. An exporter that fails is the exporter's own limit
    (it cannot make this combination), so ``skipped`` is the default: the table shows it as a gap,
    not as a Glassbox failure."""
    if p is not None:
        (d / "export.log").write_text((p.stdout or "") + (p.stderr or ""))
    st = ExportStatus(ok=False, skipped=skipped, reason=reason)
    st.write(d)
    return st


def torch_one(arch: str, mode: str, opset: str, out: str) -> int:
    """Subprocess body of export_torch: one torch.onnx.export call."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(CHECKPOINTS / arch).eval()
    with_types = arch == "bert"

    class Classifier(torch.nn.Module):
        """What users export: the HF classifier called with named inputs, returning the logits."""

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            kw = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
            return self.m(input_ids=input_ids, attention_mask=attention_mask, **kw).logits

    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(CHECKPOINTS / arch / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    enc = tok.encode_batch(["An example sentence for the exporter.", "Another one, of the same length!"])
    n = min(len(e.ids) for e in enc)
    ids = torch.tensor([e.ids[:n] for e in enc])
    mask = torch.ones_like(ids)
    args = (ids, mask) + ((torch.zeros_like(ids),) if with_types else ())
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_types else [])
    Path(out).mkdir(parents=True, exist_ok=True)
    path = str(Path(out) / "model.onnx")
    kw = {}
    if opset:
        kw["opset_version"] = int(opset)
    if mode == "dynamo":
        batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
        torch.onnx.export(Classifier(model), args, path, input_names=names, output_names=["logits"],
                          dynamic_shapes=tuple({0: batch, 1: seq} for _ in names), dynamo=True, **kw)
    else:
        torch.onnx.export(Classifier(model), args, path, input_names=names, output_names=["logits"],
                          dynamic_axes={k: {0: "batch", 1: "sequence"} for k in names}, dynamo=False, **kw)
    if (Path(out) / "model.onnx.data").exists():
        print("NOTE: external data: model.onnx + model.onnx.data")
    return 0


def make(arch: str, ex: Exporter, fresh: bool, made: dict) -> ExportStatus:
    d = export_dir(arch, ex)
    if not fresh:
        st = ExportStatus.read(d)
        if st is not None:
            return st
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    log(f"export {d.name}")
    if ex.name == "optimum":
        dflt = made.get((arch, "optimum-default"))
        if ex.opset is not None and dflt is not None and dflt.ok and dflt.opset == ex.opset:
            st = ExportStatus(ok=False, skipped=True, reason=f"same as optimum's default export (opset {ex.opset}): not repeated")
            st.write(d)
            return st
        return export_optimum(arch, ex, d)
    if ex.name == "optimum_O2":
        return export_optimum_o2(arch, d, export_dir(arch, next(e for e in EXPORTERS if e.key == "optimum-default")))
    return export_torch(arch, ex, d)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--torch-one":
        return torch_one(*argv[1:5])
    fresh = "--fresh" in argv
    archs = [a for a in argv if not a.startswith("--")] or ARCHS
    made: dict = {}
    for arch in archs:
        for ex in EXPORTERS:
            st = make(arch, ex, fresh, made)
            made[(arch, ex.key)] = st
            state = "ok" if st.ok else ("skipped" if st.skipped else "FAILED")
            log(f"  {arch}-{ex.key}: {state} opset={st.opset} fused={st.fused_ops} {st.reason}")
    (EXPORTS / "index.json").write_text(json.dumps({f"{a}-{k}": s.__dict__ for (a, k), s in made.items()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
