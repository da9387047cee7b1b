"""Shared definitions of the compatibility matrix: paths, the matrix's axes, the test sentences.

The matrix is architecture × exporter × opset. Every module of ``scripts/compat`` imports its
names from here, so the layout of ``.cache/compat/`` is defined in one place:

    .cache/compat/
      glassbox                      the CLI under test (go build -o .cache/compat/glassbox ./cmd/glassbox)
      checkpoints/<arch>/           Hugging Face checkpoints (safetensors + tokenizer + config)
      exports/<arch>-<exporter>-<opset>/   one ONNX export each, Hugging Face layout
      runs/<export>/...             Glassbox's inputs and outputs per check
      matrix.md, matrix.json        the result
      build.log, pip-*.log          logs of run.sh
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: Repository root (scripts/compat/common.py → ../../).
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "compat"
CHECKPOINTS = CACHE / "checkpoints"
EXPORTS = CACHE / "exports"
RUNS = CACHE / "runs"
GLASSBOX = CACHE / "glassbox"
PY_EXPORTS = ROOT / ".cache" / "pyenv-exports" / "bin" / "python"
PY_OPTIMUM = ROOT / ".cache" / "pyenv-optimum" / "bin" / "python"
OPTIMUM_CLI = ROOT / ".cache" / "pyenv-optimum" / "bin" / "optimum-cli"

#: Architectures, in table order. ``bert`` is the real all-MiniLM-L6-v2 encoder with a seeded
#: random head; the others are tiny seeded random models (see checkpoints.py).
ARCHS = ["bert", "distilbert", "roberta", "gpt2"]

#: Labels of every classifier made here.
LABELS = ["NEGATIVE", "POSITIVE"]

#: Tolerances of the checks (max abs difference).
TOL_PREDICT = 1e-4
TOL_PERTURBATION = 1e-4
TOL_ATTENTION = 1e-5
#: Gradient methods: max |Δ| per token relative to the row's largest |attribution| (reference).
TOL_GRADIENT_REL = 1e-3
#: The gradient methods the matrix runs, and IG's defaults the reference assumes.
GRADIENT_METHODS = ("saliency", "gradxinput", "ig")
IG_DEFAULTS = {"steps": 50, "rule": "gausslegendre", "baseline": "pad"}

#: Sentences explained for every export. Each has at most 10 non-special tokens under every
#: tokenizer used here, so KernelSHAP enumerates all coalitions (exact Shapley values) and the
#: reference can enumerate them too. ``matrix.py`` checks the bound and fails loudly if a
#: tokenizer change breaks it.
SENTENCES = [
    ("s0", "She was very happy."),
    ("s1", "It was a bad day."),
    ("s2", "He is not kind to her."),
    ("s3", "What a lovely evening!"),
]
MAX_PLAYERS = 10


@dataclass(frozen=True)
class Exporter:
    """One column group of the matrix: how a user turns a checkpoint into ONNX.

    ``name`` and ``opset`` name the export folder (``<arch>-<name>-<opset>``, opset ``default``
    when the exporter picks it), ``label`` is what the table shows, ``env`` says which Python
    environment runs it, ``how`` is the command a user would type.
    """

    name: str
    opset: int | None
    label: str
    env: str
    how: str

    @property
    def key(self) -> str:
        return f"{self.name}-{self.opset if self.opset is not None else 'default'}"


EXPORTERS = [
    Exporter("optimum", None, "optimum", "optimum", "optimum-cli export onnx --task text-classification"),
    Exporter("optimum", 18, "optimum", "optimum", "optimum-cli export onnx --task text-classification --opset 18"),
    Exporter("optimum", 14, "optimum", "optimum", "optimum-cli export onnx --task text-classification --opset 14"),
    Exporter("optimum_O2", None, "optimum + ORT -O2", "optimum", "optimum-cli onnxruntime optimize -O2 over the default-opset export (model_optimized.onnx)"),
    Exporter("dynamo", None, "torch dynamo", "exports", "torch.onnx.export(dynamo=True), today's defaults (external data)"),
    Exporter("dynamo", 18, "torch dynamo", "exports", "torch.onnx.export(dynamo=True, opset_version=18)"),
    Exporter("legacy", 14, "torch legacy", "exports", "torch.onnx.export(dynamo=False, opset_version=14)"),
    Exporter("legacy", 17, "torch legacy", "exports", "torch.onnx.export(dynamo=False, opset_version=17)"),
]


def export_name(arch: str, exporter: Exporter) -> str:
    """The folder name of one export: ``<arch>-<exporter>-<opset>``."""
    return f"{arch}-{exporter.key}"


def export_dir(arch: str, exporter: Exporter) -> Path:
    return EXPORTS / export_name(arch, exporter)


@dataclass
class ExportStatus:
    """What happened to one export, written as ``status.json`` beside the files.

    ``ok`` False with ``skipped`` True means the exporter itself cannot make this combination
    (an expected gap, shown as such in the table); ``ok`` False otherwise is a failure.
    """

    ok: bool
    skipped: bool = False
    reason: str = ""
    onnx: str = ""           # the ONNX file's path relative to the export folder
    opset: int | None = None  # default-domain opset of the written graph
    fused_ops: list = field(default_factory=list)  # fused attention ops found in the graph
    notes: list = field(default_factory=list)

    def write(self, d: Path) -> None:
        d.mkdir(parents=True, exist_ok=True)
        (d / "status.json").write_text(json.dumps(self.__dict__, indent=2) + "\n")

    @staticmethod
    def read(d: Path) -> "ExportStatus | None":
        p = d / "status.json"
        if not p.exists():
            return None
        return ExportStatus(**json.loads(p.read_text()))


def log(*args) -> None:
    """Progress on stderr (stdout carries the table)."""
    print("[compat]", *args, file=sys.stderr, flush=True)


def run(cmd, *, timeout=600, env=None, cwd=ROOT) -> subprocess.CompletedProcess:
    """Runs a command, capturing its output; never raises on a non-zero exit or a timeout."""
    e = dict(os.environ)
    e.setdefault("HF_HUB_OFFLINE", "1")
    e.setdefault("TRANSFORMERS_OFFLINE", "1")
    if env:
        e.update(env)
    try:
        return subprocess.run([str(c) for c in cmd], cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as ex:
        return subprocess.CompletedProcess(ex.cmd, 124, ex.stdout or "", (ex.stderr or "") + f"\ntimed out after {timeout}s")


FUSED_ATTENTION_OPS = {
    "Attention", "MultiHeadAttention", "PackedAttention", "PackedMultiHeadAttention",
    "GroupQueryAttention", "DecoderAttention", "DecoderMaskedMultiHeadAttention",
    "DecoderMaskedSelfAttention", "LongformerAttention", "QAttention", "SparseAttention",
}


def contrib_ops(path: Path) -> list[str]:
    """The ops of an ONNX file outside the default domain (``domain::op``, e.g. ONNX Runtime's
    fused ``com.microsoft::SkipLayerNormalization``), read without its external weights."""
    import onnx

    m = onnx.load(str(path), load_external_data=False)
    return sorted({f"{n.domain}::{n.op_type}" for n in m.graph.node if n.domain not in ("", "ai.onnx")})


def inspect_onnx(path: Path) -> tuple[int | None, list[str]]:
    """Returns the default-domain opset of an ONNX file and the fused attention ops it uses
    (``domain::op``), reading the graph without its external weights."""
    import onnx

    m = onnx.load(str(path), load_external_data=False)
    opset = None
    for imp in m.opset_import:
        if imp.domain in ("", "ai.onnx"):
            opset = imp.version
    fused = sorted({f"{n.domain or 'ai.onnx'}::{n.op_type}" for n in m.graph.node if n.op_type in FUSED_ATTENTION_OPS})
    return opset, fused
