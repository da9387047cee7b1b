#!/usr/bin/env python3
"""Benchmark-only GPT-2 models with a GPT-2-sized byte-level BPE tokenizer (issue 16, items 4 and 5).

Writes, under .cache/bench/ (git-ignored; never commit the weights):

  gpt2-small/     GPT-2-small-sized causal LM (12 layers, 768 wide, 12 heads, vocab 50257),
                  random weights (seed 0), exported with torch.onnx.export (TorchScript, opset 17,
                  inputs input_ids and attention_mask, output logits [batch, sequence, vocab]).
  gpt2-bpe50k/    the same tokenizer on a 2-layer, 64-wide GPT-2 (vocab 50257): start-up
                  figures where tokenizer.json, not the model, is the large file.

The tokenizer is a byte-level BPE (GPT-2's pre-tokenizer, decoder and post-processor) trained by
Hugging Face's `tokenizers` with vocab_size 50257 (50,000 merges + 256 bytes + <|endoftext|>) on
the Python sources of this venv: no network, and the file has the size and shape of GPT-2's own.

Run: .cache/pyenv-exports/bin/python scripts/make-bench-gpt2.py [--only tokenizer|small|bpe50k]
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / ".cache" / "bench"
VOCAB = 50257


def corpus_files(limit_bytes: int = 120 << 20) -> list[str]:
    """Python sources of the interpreter's prefix, sorted for a deterministic corpus."""
    out, total = [], 0
    for dirpath, dirnames, filenames in os.walk(sys.prefix):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith(".py"):
                p = os.path.join(dirpath, f)
                out.append(p)
                total += os.path.getsize(p)
                if total >= limit_bytes:
                    return out
    return out


def make_tokenizer(path: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    def texts():
        for f in corpus_files():
            try:
                yield Path(f).read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue

    tok.train_from_iterator(texts(), trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    d = json.loads(path.read_text())
    print(f"{path}: vocab {len(d['model']['vocab'])}, merges {len(d['model']['merges'])}, {path.stat().st_size} bytes")


def make_model(out: Path, tok_path: Path, n_layer: int, n_embd: int, n_head: int) -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    vocab = len(json.loads(tok_path.read_text())["model"]["vocab"])
    cfg = GPT2Config(vocab_size=vocab, n_positions=1024, n_embd=n_embd, n_layer=n_layer, n_head=n_head,
                     bos_token_id=0, eos_token_id=0, use_cache=False)
    model = GPT2LMHeadModel(cfg).eval()

    class LM(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    out.mkdir(parents=True, exist_ok=True)
    ids = torch.randint(0, vocab, (2, 9))
    mask = torch.ones_like(ids)
    names = ["input_ids", "attention_mask"]
    with torch.no_grad():
        torch.onnx.export(LM(model), (ids, mask), str(out / "model.onnx"), input_names=names, output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                                        "logits": {0: "batch", 1: "sequence"}}, opset_version=17, dynamo=False)
    cfg.architectures = ["GPT2LMHeadModel"]
    cfg.save_pretrained(str(out))
    (out / "tokenizer.json").write_bytes(tok_path.read_bytes())
    print(f"{out}: {n_layer} layers, {n_embd} wide, vocab {vocab}, model.onnx {(out / 'model.onnx').stat().st_size} bytes")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["tokenizer", "small", "bpe50k"])
    a = ap.parse_args()
    tok_path = BENCH / "bpe50k-tokenizer.json"
    if a.only in (None, "tokenizer") or not tok_path.exists():
        make_tokenizer(tok_path)
    if a.only in (None, "bpe50k"):
        make_model(BENCH / "gpt2-bpe50k", tok_path, 2, 64, 2)
    if a.only in (None, "small"):
        make_model(BENCH / "gpt2-small", tok_path, 12, 768, 12)
    return 0


if __name__ == "__main__":
    sys.exit(main())
