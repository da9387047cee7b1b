#!/usr/bin/env python3
"""Computes attention rollout and attention flow from PyTorch's attention
probabilities, independently of Glassbox, for the fixture models' tests.

Why: explainer's TestAttentionMethodsMatchPyTorch checks Glassbox's rollout and
flow rows. Comparing them with Glassbox's own attention.Rollout/attention.Flow
would only show that the pipeline calls those functions; these values come from
numpy (rollout) and networkx's maximum_flow (flow) instead.

Input: testdata/models/<model>/reference.json, written by
scripts/make_test_models.py and scripts/make_export_fixtures.py: per sentence,
PyTorch's attentions [layer][head][query][key] over the sentence's real
positions (present for the short sentences).

Output: testdata/models/<model>/attention_methods.json (compact JSON) with, for
every sentence that has attentions and at most MAX_POSITIONS positions:

  {"index": i, "query": q, "rollout": [...], "flow": [...]}

Both are raw attributions per position, before special tokens are zeroed.
Definitions (../shared/conventions.md, "Attention"):

  * Per layer l, W_l is the mean over heads and A_l = rownorm(0.5·W_l + 0.5·I).
  * q is the classification position: 0 for encoders, the last position for
    decoders (gpt2-tiny).
  * rollout(j) = R[q, j] with R = A_L ⋯ A_1 (A_1 applied first).
  * flow(j) is the maximum flow from node (L, q) to node (0, j) of the layered
    graph with nodes (l, i) for l = 0..L (layer 0 = the input embeddings) and an
    edge (l, i) → (l−1, j) of capacity A_l[i, j]; as in attention/flow.go, edges
    of capacity at most 1e-12 are left out (they carry nothing), and node (l, i)
    is numbered l·n + i.

Run with the exports environment (numpy and networkx):
  .cache/pyenv-exports/bin/python scripts/attention_refs.py
It is deterministic: a rerun writes the same bytes.
"""

import json
import os
import sys

import networkx as nx
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# Model folder -> whether it is a decoder (query = last position).
MODELS = {
    "distilbert-sentiment": False,
    "gpt2-tiny": True,
    "bert-tiny": False,
    "roberta-tiny": False,
}

# The test runs flow with max_length 64 on sentences of up to 40 positions.
MAX_POSITIONS = 40

# Edges at or below this capacity are left out of the flow graph (attention/flow.go's flowEps).
FLOW_EPS = 1e-12


def residual_matrices(att):
    """Per layer, rownorm(0.5 * head mean + 0.5 * I), in float64."""
    out = []
    for layer in att:
        w = np.asarray(layer, dtype=np.float64).mean(axis=0)
        a = 0.5 * w + 0.5 * np.eye(w.shape[0])
        out.append(a / a.sum(axis=1, keepdims=True))
    return out


def rollout(mats, q):
    r = mats[0]
    for a in mats[1:]:
        r = a @ r
    return r[q]


def flow(mats, q):
    n = mats[0].shape[0]
    g = nx.DiGraph()
    g.add_nodes_from(range((len(mats) + 1) * n))
    for l, a in enumerate(mats):
        for i in range(n):
            for j in range(n):
                c = float(a[i, j])
                if c > FLOW_EPS:
                    g.add_edge((l + 1) * n + i, l * n + j, capacity=c)
    src = len(mats) * n + q
    return [nx.maximum_flow(g, src, j)[0] for j in range(n)]


def main():
    for model, decoder in MODELS.items():
        folder = os.path.join(ROOT, "testdata", "models", model)
        with open(os.path.join(folder, "reference.json")) as f:
            ref = json.load(f)
        rows = []
        for i, s in enumerate(ref["sentences"]):
            att = s.get("attentions")
            if not att:
                continue
            n = len(att[0][0])
            if n > MAX_POSITIONS:
                continue
            q = n - 1 if decoder else 0
            mats = residual_matrices(att)
            rows.append({
                "index": i,
                "query": q,
                "rollout": [float(v) for v in rollout(mats, q)],
                "flow": flow(mats, q),
            })
        out = {
            "generator": "scripts/attention_refs.py",
            "versions": {"numpy": np.__version__, "networkx": nx.__version__},
            "sentences": rows,
        }
        path = os.path.join(folder, "attention_methods.json")
        with open(path, "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        print(f"{path}: {len(rows)} sentences, {os.path.getsize(path)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
