#!/usr/bin/env python3
"""Checks a run's prototypes.parquet and neighbours against numpy, from its own files.

Why: MMD-critic and the neighbour search are checked against independent
implementations on synthetic data by the Go tests (goldens of
scripts/mmdcritic_refs.py); this script does the same on a real run's
representations, so anyone can verify a run without trusting Glassbox's code.

Run: .cache/pyenv-exports/bin/python scripts/check_prototypes.py RUN_DIR
(numpy, pyarrow; the run needs `examples: {enabled: true, embeddings: true}`).

It reads the config in force from manifest.json, the representations from
embeddings-*.parquet, rebuilds every reservoir (the `reservoir` examples of
the class with the smallest priority, priority = the first 8 bytes, little
endian, of sha256(seed as 8 little-endian bytes + example id in UTF-8), ties
by id; the neighbours' reference set the same way with `reference_size`),
runs the numpy transcription of Kim et al.'s MMD-critic of mmdcritic_refs.py
on each class's candidates in id order, and ranks every example's neighbours
by brute-force cosine similarity; it prints each mismatch and exits 1 if any.
"""
import glob
import hashlib
import json
import os
import struct
import sys

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib

refs = importlib.import_module("mmdcritic_refs")


def priority(seed, eid):
    h = hashlib.sha256(struct.pack("<Q", seed) + eid.encode("utf-8")).digest()
    return struct.unpack("<Q", h[:8])[0]


def main(run):
    manifest = json.load(open(os.path.join(run, "manifest.json")))
    cfg = manifest["config"]
    ex = cfg["examples"]
    seed = cfg["seed"]
    rows = []
    for f in sorted(glob.glob(os.path.join(run, "embeddings-*-of-*.parquet"))):
        rows += pq.read_table(f).to_pylist()
    rows.sort(key=lambda r: r["example_id"].encode("utf-8"))
    byid = {r["example_id"]: r for r in rows}
    strata = {}
    for r in rows:
        strata.setdefault(("predicted", r["predicted_label"]), []).append(r["example_id"])
        if ex["gold"] and r["gold_label"]:
            strata.setdefault(("gold", r["gold_label"]), []).append(r["example_id"])
    got = pq.read_table(os.path.join(run, "prototypes.parquet")).to_pylist()
    bad = 0
    for (by, cls), ids in sorted(strata.items()):
        keep = sorted(ids, key=lambda i: (priority(seed, i), i.encode("utf-8")))[: ex["reservoir"]]
        keep.sort(key=lambda i: i.encode("utf-8"))
        x = np.array([byid[i]["embedding"] for i in keep], dtype=np.float32)
        reg = "None" if ex["regularizer"] == "none" else ex["regularizer"]
        g, mmd2, protos, pscores, crits, cscores = refs.mmd_critic(x, ex["prototypes"], ex["criticisms"], ex["gamma"], reg)
        mine = [r for r in got if r["grouping"] == by and r["class"] == cls]
        want = [("prototype", k + 1, keep[i], s) for k, (i, s) in enumerate(zip(protos, pscores))]
        want += [("criticism", k + 1, keep[i], s) for k, (i, s) in enumerate(zip(crits, cscores))]
        have = [(r["kind"], r["rank"], r["example_id"], r["score"]) for r in mine]
        ok = len(have) == len(want) and all(a[:3] == b[:3] and abs(a[3] - b[3]) <= 1e-9 * max(1, abs(b[3])) for a, b in zip(have, want))
        print(f"{by} {cls}: {len(keep)} candidates, gamma {g:.6g}: {'equal' if ok else 'DIFFERENT'}")
        if not ok:
            bad += 1
            print("  glassbox:", have)
            print("  numpy:   ", want)
    nfiles = sorted(glob.glob(os.path.join(run, "neighbours-*-of-*.parquet")))
    if nfiles:
        ref = sorted(byid, key=lambda i: (priority(seed, i), i.encode("utf-8")))[: ex["reference_size"]]
        xr = np.array([byid[i]["embedding"] for i in ref], dtype=np.float64)
        norms = np.sqrt(np.sum(xr * xr, axis=1))
        n_bad = n = 0
        for f in nfiles:
            for r in pq.read_table(f).to_pylist():
                q = np.array(byid[r["example_id"]]["embedding"], dtype=np.float64)
                qn = np.sqrt(np.sum(q * q))
                sims = (xr @ q) / (norms * qn)
                order = sorted((-s, i.encode("utf-8"), i) for s, i in zip(sims, ref) if i != r["example_id"])[: ex["neighbours"]]
                want = [i for _, _, i in order]
                have = [nb["example_id"] for nb in r["neighbours"]]
                n += 1
                if have != want:
                    n_bad += 1
                    if n_bad <= 5:
                        print(f"neighbours of {r['example_id']}: glassbox {have}, numpy {want}")
        print(f"neighbours: {n - n_bad} of {n} lists equal to brute force over {len(ref)} references")
        bad += n_bad
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_prototypes.py RUN_DIR")
    main(sys.argv[1])
