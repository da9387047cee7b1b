"""Running the Glassbox CLI and reading what it wrote.

The binary is ``.cache/compat/glassbox`` (``go build -o .cache/compat/glassbox ./cmd/glassbox``,
done by run.sh); it runs from the repository root so it finds ``.cache/ort/``. Outputs are read
with pyarrow (Parquet) and json (manifest.json, predict's JSON lines). Fields that the lead is
still adding (the manifest's ``model`` section and ``warnings``) are optional here.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from pathlib import Path

from common import GLASSBOX, run


@dataclass
class Result:
    """One CLI call: exit code, output, and a one-line reason when it failed."""

    rc: int
    stdout: str
    stderr: str
    cmd: list

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def error(self) -> str:
        """The CLI's own error line (Beam's INFO/WARN log lines and the header skipped)."""
        lines = [l.strip() for l in self.stderr.splitlines() if l.strip()]
        lines = [l for l in lines if "level=INFO" not in l and "level=WARN" not in l
                 and not (l.startswith("glassbox explain:") and " over " in l and " with " in l)]
        return lines[-1] if lines else f"exit {self.rc}, no message"


def call(args: list, timeout: int = 600) -> Result:
    cmd = [GLASSBOX] + [str(a) for a in args]
    p = run(cmd, timeout=timeout)
    return Result(p.returncode, p.stdout, p.stderr, [str(c) for c in cmd])


def predict(model: str, texts: Path) -> tuple[Result, list[dict]]:
    """``glassbox predict``: one JSON object per input line."""
    r = call(["predict", "--model", model, "--input", texts])
    lines = []
    if r.ok:
        lines = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    return r, lines


@dataclass
class Run:
    """One ``glassbox explain`` run's outputs."""

    result: Result
    out: Path
    rows: list[dict] = field(default_factory=list)
    matrices: list[dict] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    @property
    def model_info(self) -> dict:
        """The manifest's ``model`` section, {} when this Glassbox does not write one."""
        m = self.manifest.get("model")
        return m if isinstance(m, dict) else {}

    @property
    def warnings(self) -> list:
        w = self.manifest.get("warnings")
        return w if isinstance(w, list) else []

    @property
    def attention_masking(self) -> dict:
        """The manifest's verdict on attention masking, ``model.attention_mask`` ({honoured,
        evidence}; ``model.attention_masking`` in early drafts), {} when absent."""
        for key in ("attention_mask", "attention_masking"):
            a = self.model_info.get(key)
            if isinstance(a, dict):
                return a
        return {}


def explain(model: str, texts: Path, methods: str, out: Path, config: Path | None = None) -> Run:
    """``glassbox explain --model … --input … --methods … --output … --quiet`` and its outputs."""
    args = ["explain"]
    if config is not None:
        args += ["--config", config]
    args += ["--model", model, "--input", texts, "--methods", methods, "--output", out, "--quiet"]
    r = call(args)
    run_ = Run(r, out)
    if r.ok:
        run_.rows = read_parquet(out, "explanations-*.parquet")
        run_.matrices = read_parquet(out, "attention-*.parquet")
        mp = out / "manifest.json"
        if mp.exists():
            run_.manifest = json.loads(mp.read_text())
    return run_


def read_parquet(folder: Path, pattern: str) -> list[dict]:
    import pyarrow.parquet as pq

    rows = []
    for f in sorted(glob.glob(str(folder / pattern))):
        rows.extend(pq.read_table(f).to_pylist())
    return rows


def version() -> str:
    r = call(["--version"], timeout=60)
    return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr).strip() else "unknown"
