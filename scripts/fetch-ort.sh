#!/usr/bin/env bash
# Provisions the ONNX Runtime shared library from the npm package
# onnxruntime-node@1.30.0 into .cache/ort/, verifying its sha256. Reuses a
# verified cached copy; never downloads twice.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/.cache/ort"
LIB="$DEST/libonnxruntime.so.1"
PKG="onnxruntime-node@1.30.0"
MEMBER="package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
# Keep in sync with ortlib.LibrarySHA256.
SHA256="ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"

verify() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }

if verify "$LIB"; then
	echo "ONNX Runtime: using cached $LIB"
	exit 0
fi

command -v npm >/dev/null || { echo "fetch-ort: npm is needed to fetch $PKG (install Node.js and npm)" >&2; exit 1; }
mkdir -p "$DEST"
TMP="$(mktemp -d "$DEST/fetch.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
echo "ONNX Runtime: fetching $PKG from the npm registry"
(cd "$TMP" && npm pack --silent "$PKG" >/dev/null)
tar -xzf "$TMP"/onnxruntime-node-1.30.0.tgz -C "$TMP" "$MEMBER"
if ! verify "$TMP/$MEMBER"; then
	echo "fetch-ort: checksum mismatch for $MEMBER in $PKG (expected sha256 $SHA256)" >&2
	exit 1
fi
mv "$TMP/$MEMBER" "$LIB.tmp"
mv "$LIB.tmp" "$LIB"
echo "ONNX Runtime: installed $LIB"
