#!/usr/bin/env python3
"""Sum of params.evaluations (model evaluations) per method over explain outputs' explanations Parquet.

  .cache/pyenv-exports/bin/python scripts/bench-sample-job.py OUTDIR [OUTDIR...]

Prints one line per output folder and method: rows, total evaluations, mean evaluations per row.
scripts/bench-sample-job.sh uses it for the sample job's figures.
"""
import glob
import json
import os
import sys
from collections import defaultdict

import pyarrow.parquet as pq


def main():
    for out in sys.argv[1:]:
        files = sorted(glob.glob(os.path.join(out, "explanations-*.parquet")))
        if not files:
            raise SystemExit(f"{out}: no explanations-*.parquet")
        rows, evals = defaultdict(int), defaultdict(int)
        for f in files:
            t = pq.read_table(f, columns=["method", "params"]).to_pydict()
            for m, p in zip(t["method"], t["params"]):
                rows[m] += 1
                evals[m] += json.loads(p)["evaluations"]
        for m in sorted(rows):
            print(f"EVALS out={out} method={m} rows={rows[m]} evaluations={evals[m]} per_row={evals[m] / rows[m]:.1f}")


if __name__ == "__main__":
    main()
