#!/usr/bin/env node
// Probes Hugging Face's Rust tokenizers library (npm `tokenizers`) for the
// Unicode character classes it uses, over every code point, and writes:
//   tokenizer/rust_unicode_tables.go            range tables for the classes
//   testdata/tokenizers/unicode-maps.json.gz     per-character lowercase and
//                                                normalisation results that the
//                                                Go tests compare against.
// Go's unicode tables are newer than the Rust library's (and onig's, for the
// GPT-2 split regex); these tables make the Go package agree with the Rust one.
//
//   (cd scripts/tokenizer-goldens && npm install)
//   node scripts/gen-tokenizer-unicode.js
'use strict';
const path = require('path');
const fs = require('fs');
const zlib = require('zlib');
const tk = require(path.join(__dirname, 'tokenizer-goldens', 'node_modules', 'tokenizers'));

const root = path.join(__dirname, '..');
const MAX = 0x10ffff;
const cps = [];
for (let c = 0; c <= MAX; c++) if (c < 0xd800 || c > 0xdfff) cps.push(c);
const CH = 4096;

// pieceStarts runs a pre-tokenizer on the concatenation of per-code-point
// tests and reports, for each test, the pieces (as [start, end] relative to the
// test start, in code points) that lie inside it.
function probe(pt, make) {
  const res = new Map();
  for (let i = 0; i < cps.length; i += CH) {
    const chunk = cps.slice(i, i + CH);
    const starts = [];
    let s = '';
    let pos = 0;
    for (const c of chunk) {
      const t = make(String.fromCodePoint(c));
      starts.push(pos);
      s += t;
      pos += Array.from(t).length;
    }
    starts.push(pos);
    const pieces = pt.preTokenizeString(s);
    let k = 0;
    const per = chunk.map(() => []);
    for (const [, [a, b]] of pieces) {
      while (k + 1 < starts.length && starts[k + 1] <= a) k++;
      per[k].push([a - starts[k], b - starts[k]]);
    }
    chunk.forEach((c, j) => res.set(c, per[j]));
  }
  return res;
}

function normProbe(nz, sep) {
  const res = new Map();
  for (let i = 0; i < cps.length; i += CH) {
    const chunk = cps.slice(i, i + CH).filter((c) => String.fromCodePoint(c) !== sep);
    const out = nz.normalizeString(chunk.map((c) => String.fromCodePoint(c)).join(sep) + sep).split(sep);
    if (out.length !== chunk.length + 1) throw new Error('separator broken near ' + chunk[0].toString(16));
    chunk.forEach((c, j) => res.set(c, out[j]));
  }
  return res;
}

function ranges(pred) {
  const r = [];
  for (const c of cps) {
    if (!pred(c)) continue;
    if (r.length && r[r.length - 1][1] === c - 1) r[r.length - 1][1] = c;
    else if (r.length && r[r.length - 1][1] === 0xd7ff && c === 0xe000) r[r.length - 1][1] = c;
    else r.push([c, c]);
  }
  return r;
}

const eq = (p, ...want) => p.length === want.length && p.every((x, i) => x[0] === want[i][0] && x[1] === want[i][1]);

const t0 = Date.now();
const bl = tk.byteLevelPreTokenizer(false, true);
const L = probe(bl, (c) => '\na' + c);
const N = probe(bl, (c) => '\n1' + c);
const S = probe(bl, (c) => '\n!' + c + '!');
const isL = (c) => L.get(c).some((p) => p[0] === 1 && p[1] === 3);
const isN = (c) => N.get(c).some((p) => p[0] === 1 && p[1] === 3);
const isS = (c) => c === 0x20 || (!isL(c) && !isN(c) && S.get(c).some((p) => p[0] === 2 && p[1] === 3));
console.error('gpt2 classes', (Date.now() - t0) / 1000);

const bert = probe(tk.bertPreTokenizer(), (c) => 'a' + c + 'a ');
const bertWS = (c) => eq(bert.get(c), [0, 1], [2, 3]);
const bertPunct = (c) => eq(bert.get(c), [0, 1], [1, 2], [2, 3]);
const ws = probe(tk.whitespacePreTokenizer(), (c) => 'a' + c + 'a ');
const wordChar = (c) => eq(ws.get(c), [0, 3]);
const regexSpace = (c) => eq(ws.get(c), [0, 1], [2, 3]);
const dg = probe(tk.digitsPreTokenizer(false), (c) => 'a' + c + 'a0');
const numeric = (c) => eq(dg.get(c), [0, 1], [1, 2], [2, 3], [3, 4]);
console.error('pre-tokenizer classes', (Date.now() - t0) / 1000);

const SEP = '\u0001';
const clean = normProbe(tk.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false }), '|');
const cleanRemove = (c) => c !== 0x7c && clean.get(c) === '';
const cleanSpace = (c) => c !== 0x7c && c !== 0x20 && clean.get(c) === ' ';
const chin = normProbe(tk.bertNormalizer({ cleanText: false, handleChineseChars: true, stripAccents: false, lowercase: false }), SEP);
const chinese = (c) => c !== 1 && chin.get(c) === ' ' + String.fromCodePoint(c) + ' ';
console.error('bert normalizer classes', (Date.now() - t0) / 1000);

const maps = {};
const want = {
  lowercase: tk.lowercase(),
  nfd: tk.nfdNormalizer(),
  nfkd: tk.nfkdNormalizer(),
  nfc: tk.nfcNormalizer(),
  nfkc: tk.nfkcNormalizer(),
  strip_accents: tk.stripAccentsNormalizer(),
  bert_strip: tk.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false }),
};
for (const [k, nz] of Object.entries(want)) {
  const m = normProbe(nz, SEP);
  const o = {};
  for (const [c, v] of m) if (v !== String.fromCodePoint(c)) o[c.toString(16)] = v;
  maps[k] = o;
  console.error(k, Object.keys(o).length, (Date.now() - t0) / 1000);
}
// Non-starters (combining class 1..239) as the Rust crate sees them: NFD
// reorders U+0345 (class 240) after them. Canonical reordering depends on it.
{
  const nfd = tk.nfdNormalizer();
  const ns = [];
  for (let i = 0; i < cps.length; i += CH) {
    const chunk = cps.slice(i, i + CH).filter((c) => c !== 1);
    const out = nfd.normalizeString(chunk.map((c) => '\u0345' + String.fromCodePoint(c)).join(SEP) + SEP).split(SEP);
    chunk.forEach((c, j) => { if (!out[j].startsWith('\u0345')) ns.push(c.toString(16)); });
  }
  maps.nonstarters = ns;
  console.error('nonstarters', ns.length, (Date.now() - t0) / 1000);
}
fs.writeFileSync(path.join(root, 'testdata', 'tokenizers', 'unicode-maps.json.gz'), zlib.gzipSync(Buffer.from(JSON.stringify(maps)), { level: 9 }));

// Characters that extend a grapheme cluster in the Rust unicode-segmentation
// crate, as the Precompiled normalizer sees it: with the nmt_nfkc charsmap
// (testdata/tokenizers/unigram-nmt.json.gz), "²" + X normalises to "2" alone
// when X joins the cluster (the whole cluster is replaced) or is removed.
const extendSet = new Set();
{
  const nmt = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(root, 'testdata', 'tokenizers', 'unigram-nmt.json.gz'))).toString('utf8'));
  const cm = nmt.normalizer.normalizers[0].precompiled_charsmap;
  const pre = tk.precompiled(Array.from(Buffer.from(cm, 'base64')));
  const bmp = cps.filter((c) => c >= 0x300 && c <= 0xffff && c !== 0x7c && c !== 1);
  for (const c of bmp) {
    const r = pre.normalizeString('\u00b2' + String.fromCodePoint(c));
    if (r === '2') extendSet.add(c);
  }
  console.error('grapheme extend', extendSet.size, (Date.now() - t0) / 1000);
}

const tables = {
  graphemeExtend: ranges((c) => extendSet.has(c)),
  gpt2Letter: ranges(isL),
  gpt2Number: ranges(isN),
  gpt2Space: ranges(isS),
  rustWhitespace: ranges(bertWS),
  bertPunctuation: ranges(bertPunct),
  regexWord: ranges(wordChar),
  regexSpace: ranges(regexSpace),
  rustNumeric: ranges(numeric),
  bertCleanRemove: ranges(cleanRemove),
  bertCleanSpace: ranges(cleanSpace),
  bertChinese: ranges(chinese),
};
let go = '// Code generated by scripts/gen-tokenizer-unicode.js from tokenizers (npm) 0.23.2; DO NOT EDIT.\n\npackage tokenizer\n\n';
const docs = {
  graphemeExtend: 'the BMP characters (U+0300 and up) that join the preceding grapheme cluster, or are removed, in the Precompiled normalizer',
  gpt2Letter: '\\p{L} as the GPT-2 split regex (Oniguruma) of the Rust library sees it',
  gpt2Number: '\\p{N} as the GPT-2 split regex (Oniguruma) of the Rust library sees it',
  gpt2Space: '\\s as the GPT-2 split regex (Oniguruma) of the Rust library sees it',
  rustWhitespace: "Rust's char::is_whitespace plus \\t \\n \\r, as BertPreTokenizer splits on it",
  bertPunctuation: 'the punctuation that BertPreTokenizer and Punctuation isolate',
  regexWord: '\\w of the Whitespace pre-tokenizer regex (Rust regex crate)',
  regexSpace: '\\s of the Whitespace pre-tokenizer regex (Rust regex crate)',
  rustNumeric: "Rust's char::is_numeric, as the Digits pre-tokenizer uses it",
  bertCleanRemove: 'the characters that BertNormalizer clean_text removes',
  bertCleanSpace: 'the characters that BertNormalizer clean_text turns into a space',
  bertChinese: 'the CJK ideographs that BertNormalizer handle_chinese_chars pads with spaces',
};
for (const [k, r] of Object.entries(tables)) {
  go += `// ${k} holds ${docs[k]}.\nvar ${k} = rangeTable{\n`;
  for (const [a, b] of r) go += `\t{0x${a.toString(16)}, 0x${b.toString(16)}},\n`;
  go += '}\n\n';
  console.error(k, r.length);
}
fs.writeFileSync(path.join(root, 'tokenizer', 'rust_unicode_tables.go'), go);
require('child_process').execFileSync('gofmt', ['-w', path.join(root, 'tokenizer', 'rust_unicode_tables.go')]);
