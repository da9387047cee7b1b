"""Independent PyTorch computations of the definitions in shared/conventions.md.

Everything here starts from the Hugging Face checkpoint (``.cache/compat/checkpoints/<arch>/``),
never from an ONNX file or from Glassbox, and runs the PyTorch module in float64 with eager
attention (so ``output_attentions=True`` returns the softmax probabilities):

- ``probs``: class probabilities (softmax of the logits).
- coalition values ``v(S)`` for the perturbation methods: the probability of the target class
  with the players outside S absent, where absent means (conventions, "Masking")
  ``attention``: attention_mask 0, id and position kept; ``replace``: id → the tokenizer's mask
  token, or the pad token when it has none; attention unchanged. Special tokens are never players.
- ``occlusion``: f(x) − f(x with token i absent).
- ``shapley``: exact Shapley values by enumerating all 2^n coalitions (what KernelSHAP returns
  when its budget covers every coalition).
- ``attentions``: each layer's [heads, S, S] softmax probabilities.
- ``rollout``: Abnar & Zuidema: per layer the head average W, A = 0.5·W + 0.5·I with rows
  renormalised, R = A_L ⋯ A_1; attribution(j) = R[q, j] with q the classification position
  (encoders: the first token; decoders such as GPT-2: the last real token).
- ``gradients``: saliency, gradient × input and Integrated Gradients (conventions, "Gradients")
  with respect to the output of the word-embedding lookup (``get_input_embeddings()``: BERT's,
  DistilBERT's and RoBERTa's ``word_embeddings``, GPT-2's ``wte``), before position/type
  embeddings and LayerNorm. A forward hook replaces that module's output with a leaf tensor, so
  the model still sees ``input_ids`` for everything else it derives from them (RoBERTa's
  position ids, GPT-2's last-non-pad pooling) — the same as passing ``inputs_embeds`` for these
  unpadded inputs, and the same cut Glassbox makes in the ONNX graph. f = the target class's
  probability. IG: baseline = the pad token's embedding at non-special positions and the real
  embedding at special ones, Gauss–Legendre points on [0, 1], completeness gap
  |Σ ig − (f(e) − f(e′))| / |f(e) − f(e′)|. Special tokens get 0.

The positions kept under attention masking are what the module computes when it is given no
position ids: 0..S−1 for BERT, DistilBERT and GPT-2, and RoBERTa's padding-offset positions
from the ids (unchanged, since ids are kept).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import CHECKPOINTS, MAX_PLAYERS

DECODERS = {"gpt2"}


@dataclass
class Encoding:
    """One sentence as the reference tokenizes it (Hugging Face ``tokenizers``, no padding)."""

    ids: list[int]
    tokens: list[str]
    special: list[bool]

    @property
    def players(self) -> list[int]:
        return [i for i, s in enumerate(self.special) if not s]


@dataclass
class GradientRef:
    """The gradient methods' reference for one sentence and target class (float64)."""

    enc: Encoding
    saliency: np.ndarray    # ‖∂f/∂e_i‖₂ per token (0 at special tokens)
    gradxinput: np.ndarray  # Σ_h e_ih ∂f/∂e_ih per token (0 at special tokens)
    ig: np.ndarray          # Integrated Gradients per token (0 at special tokens)
    fx: float               # f(e): the target class's probability
    f_base: float           # f(e′): at IG's baseline
    gap: float              # IG's completeness gap


class Reference:
    """The PyTorch reference for one architecture; coalition values are cached per sentence."""

    def __init__(self, arch: str):
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModelForSequenceClassification

        self.arch = arch
        self.torch = torch
        d = CHECKPOINTS / arch
        self.model = AutoModelForSequenceClassification.from_pretrained(d, attn_implementation="eager").eval().double()
        self._sdpa = None
        self.config = json.loads((d / "config.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(d / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.labels = [self.config["id2label"][str(i)] for i in range(len(self.config["id2label"]))]
        self.decoder = self.config.get("model_type") in DECODERS
        tcfg = json.loads((d / "tokenizer_config.json").read_text())
        vocab = self.tokenizer.get_vocab(with_added_tokens=True)
        mask_tok = tcfg.get("mask_token")
        pad = self.config.get("pad_token_id")
        if pad is None and tcfg.get("pad_token") in vocab:
            pad = vocab[tcfg["pad_token"]]
        #: The pad token's id (config.json's pad_token_id, else the tokenizer's pad token): IG's baseline.
        self.pad_id = pad
        #: The id that `replace` masking writes: the mask token's, else the pad token's.
        self.replace_id = vocab[mask_tok] if mask_tok in vocab else pad
        self._values: dict = {}
        self._grads: dict = {}

    # -- tokens and forward passes -------------------------------------------------------------

    def encode(self, text: str) -> Encoding:
        e = self.tokenizer.encode(text)
        enc = Encoding(list(e.ids), list(e.tokens), [bool(s) for s in e.special_tokens_mask])
        if len(enc.players) > MAX_PLAYERS:
            raise ValueError(f"{self.arch}: {text!r} has {len(enc.players)} non-special tokens, more than {MAX_PLAYERS}: shorten it in common.SENTENCES")
        return enc

    def module(self, impl: str = "eager"):
        """The PyTorch module with transformers' ``eager`` (default) or ``sdpa`` attention."""
        if impl == "eager":
            return self.model
        if self._sdpa is None:
            from transformers import AutoModelForSequenceClassification

            self._sdpa = AutoModelForSequenceClassification.from_pretrained(
                CHECKPOINTS / self.arch, attn_implementation="sdpa").eval().double()
        return self._sdpa

    def probs(self, ids: np.ndarray, mask: np.ndarray | None = None, batch: int = 256, impl: str = "eager") -> np.ndarray:
        """Class probabilities [B, C] (float64) for equal-length rows of ids and attention masks."""
        torch = self.torch
        model = self.module(impl)
        ids = np.asarray(ids, dtype=np.int64)
        mask = np.ones_like(ids) if mask is None else np.asarray(mask, dtype=np.int64)
        out = []
        with torch.no_grad():
            for b in range(0, len(ids), batch):
                logits = model(input_ids=torch.from_numpy(ids[b:b + batch]),
                                    attention_mask=torch.from_numpy(mask[b:b + batch])).logits
                out.append(torch.softmax(logits, dim=-1).numpy())
        return np.concatenate(out)

    def predict(self, text: str) -> np.ndarray:
        enc = self.encode(text)
        return self.probs(np.array([enc.ids]))[0]

    # -- perturbation --------------------------------------------------------------------------

    def coalition_values(self, text: str, masking: str, impl: str = "eager") -> tuple[Encoding, np.ndarray]:
        """All 2^n coalition values [2^n, C]: bit k of the index set = player k present.

        ``impl`` picks transformers' attention implementation. The two agree except where every
        key of a query row is masked — e.g. GPT-2's empty coalition under attention masking,
        where no token is left to attend to: eager then spreads the row uniformly, sdpa does
        not, and exported graphs follow one or the other. matrix.py accepts either and says which.
        """
        key = (text, masking, impl)
        if key not in self._values:
            enc = self.encode(text)
            players = enc.players
            n = len(players)
            ids = np.tile(np.array(enc.ids, dtype=np.int64), (1 << n, 1))
            mask = np.ones_like(ids)
            for m in range(1 << n):
                for k, pos in enumerate(players):
                    if not (m >> k) & 1:
                        if masking == "attention":
                            mask[m, pos] = 0
                        elif masking == "replace":
                            ids[m, pos] = self.replace_id
                        else:
                            raise ValueError(f"unknown masking {masking!r}")
            self._values[key] = (enc, self.probs(ids, mask, impl=impl))
        return self._values[key]

    def occlusion(self, text: str, masking: str, target: int, impl: str = "eager") -> tuple[Encoding, np.ndarray, float]:
        """Per-token occlusion attributions (0 for special tokens) and f(x)."""
        enc, v = self.coalition_values(text, masking, impl)
        n = len(enc.players)
        full = (1 << n) - 1
        attr = np.zeros(len(enc.ids))
        for k, pos in enumerate(enc.players):
            attr[pos] = v[full, target] - v[full & ~(1 << k), target]
        return enc, attr, float(v[full, target])

    def shapley(self, text: str, masking: str, target: int, impl: str = "eager") -> tuple[Encoding, np.ndarray, float, float]:
        """Exact per-token Shapley values (0 for special tokens), f(x) and f(empty)."""
        enc, v = self.coalition_values(text, masking, impl)
        n = len(enc.players)
        w = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
        attr = np.zeros(len(enc.ids))
        for k, pos in enumerate(enc.players):
            bit = 1 << k
            total = 0.0
            for m in range(1 << n):
                if m & bit:
                    continue
                total += w[bin(m).count("1")] * (v[m | bit, target] - v[m, target])
            attr[pos] = total
        return enc, attr, float(v[(1 << n) - 1, target]), float(v[0, target])

    # -- attention -----------------------------------------------------------------------------

    def attentions(self, text: str) -> tuple[Encoding, list[np.ndarray]]:
        """Per layer, the [heads, S, S] attention probabilities of the unpadded sentence."""
        torch = self.torch
        enc = self.encode(text)
        ids = torch.tensor([enc.ids])
        with torch.no_grad():
            out = self.model(input_ids=ids, attention_mask=torch.ones_like(ids), output_attentions=True)
        return enc, [a[0].numpy() for a in out.attentions]

    def query_position(self, n: int) -> int:
        """The classification position q (conventions, "Attention")."""
        return n - 1 if self.decoder else 0

    @staticmethod
    def rollout(attn: list[np.ndarray], q: int) -> np.ndarray:
        n = attn[0].shape[-1]
        r = np.eye(n)
        for layer in attn:
            a = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(n)
            a = a / a.sum(axis=1, keepdims=True)
            r = a @ r
        return r[q]

    # -- gradients -----------------------------------------------------------------------------

    def gradients(self, text: str, target: int, steps: int = 50) -> GradientRef:
        """Saliency, gradient × input and IG (``steps`` Gauss–Legendre points, pad baseline) of
        the probability of class ``target``, by autograd through the float64 eager module."""
        key = (text, target, steps)
        if key in self._grads:
            return self._grads[key]
        torch = self.torch
        enc = self.encode(text)
        table = self.model.get_input_embeddings()
        w = table.weight.detach()
        ids = torch.tensor([enc.ids])
        e = w[ids[0]].clone()                                   # [S, H]
        if self.pad_id is None:
            raise ValueError(f"{self.arch}: no pad token for IG's baseline")
        special = torch.tensor(enc.special)[:, None]
        base = torch.where(special, e, w[self.pad_id].expand_as(e))
        x, wq = np.polynomial.legendre.leggauss(steps)
        alpha, weight = (x + 1) / 2, wq / 2                     # on [0, 1], weights sum to 1
        pts = torch.stack([e, base] + [base + float(a) * (e - base) for a in alpha]).requires_grad_(True)
        calls = []

        def hook(_m, _i, _o):
            calls.append(1)
            return pts

        h = table.register_forward_hook(hook)
        try:
            n = pts.shape[0]
            logits = self.model(input_ids=ids.expand(n, -1), attention_mask=torch.ones(n, ids.shape[1], dtype=torch.long)).logits
        finally:
            h.remove()
        if len(calls) != 1:
            raise RuntimeError(f"{self.arch}: the word-embedding module ran {len(calls)} times in one forward pass")
        f = torch.softmax(logits, dim=-1)[:, target]
        (g,) = torch.autograd.grad(f.sum(), pts)
        g, f = g.detach().numpy(), f.detach().numpy()
        e_np, b_np = e.numpy(), base.numpy()
        sal = np.linalg.norm(g[0], axis=-1)
        gxi = (e_np * g[0]).sum(-1)
        avg = np.tensordot(weight, g[2:], axes=1)               # Σ_k w_k ∂f/∂e (α_k)
        ig = ((e_np - b_np) * avg).sum(-1)
        sp = np.array(enc.special)
        sal[sp], gxi[sp], ig[sp] = 0.0, 0.0, 0.0
        fx, fb = float(f[0]), float(f[1])
        gap = abs(ig.sum() - (fx - fb)) / abs(fx - fb) if fx != fb else math.nan
        self._grads[key] = GradientRef(enc, sal, gxi, ig, fx, fb, gap)
        return self._grads[key]


def max_abs(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def ort_masking_probe(onnx_path: Path, ref: Reference, text: str) -> tuple[bool, float, str]:
    """Whether the ONNX graph itself (in onnxruntime's Python package, independent of Glassbox)
    honours a 0 in attention_mask in the middle of the sequence: its probabilities with one
    non-special token masked must equal PyTorch's for the same input. Returns (honoured, max abs
    difference, a note)."""
    import onnxruntime as ort

    enc = ref.encode(text)
    players = enc.players
    ids = np.array([enc.ids], dtype=np.int64)
    mask = np.ones_like(ids)
    mask[0, players[len(players) // 2]] = 0
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in sess.get_inputs():
        dt = np.int32 if "int32" in i.type else np.int64
        if i.name == "input_ids":
            feeds[i.name] = ids.astype(dt)
        elif i.name == "attention_mask":
            feeds[i.name] = mask.astype(dt)
        elif i.name == "token_type_ids":
            feeds[i.name] = np.zeros_like(ids, dtype=dt)
        elif i.name == "position_ids":
            feeds[i.name] = np.arange(ids.shape[1], dtype=dt)[None, :]
        else:
            return False, math.inf, f"unknown input {i.name}"
    logits = sess.run(["logits"], feeds)[0].astype(np.float64)
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    got = e / e.sum(axis=-1, keepdims=True)
    want = ref.probs(ids, mask)
    d = max_abs(got, want)
    return d <= 1e-4, d, f"one middle token masked: ORT vs PyTorch max abs diff {d:.2e}"
