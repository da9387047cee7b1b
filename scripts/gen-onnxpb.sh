#!/usr/bin/env bash
# Regenerates the Go protobuf types for ONNX in onnxgraph/onnxpb.
#
# Source of onnx.proto: the PyPI wheel onnx==1.17.0
# (onnx-1.17.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl,
#  sha256 4a183c6178be001bf398260e5ac2c927dc43e7746e8638d6c05c20e321f8c949),
# file onnx/onnx.proto (sha256 2881fcc940635b6a34b7c95e5089b2faa89c3d6e382c1da1706e88c7f32452bc).
# The committed copy onnxgraph/onnxpb/onnx.proto is that file with one added line,
# the go_package option.
#
# Tools: protoc from Debian (apt-get install -y protobuf-compiler; 3.21.12 was used)
# and protoc-gen-go v1.36.12 (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12).
#
# Usage: scripts/gen-onnxpb.sh            regenerate from the committed onnx.proto
#        scripts/gen-onnxpb.sh --refetch  re-download the wheel, check its hash, re-copy onnx.proto first
set -euo pipefail

ONNX_VERSION=1.17.0
WHEEL=onnx-1.17.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
WHEEL_SHA256=4a183c6178be001bf398260e5ac2c927dc43e7746e8638d6c05c20e321f8c949
PROTO_SHA256=2881fcc940635b6a34b7c95e5089b2faa89c3d6e382c1da1706e88c7f32452bc
GO_PACKAGE=github.com/glassbox-ai/glassbox/onnxgraph/onnxpb

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/onnxgraph/onnxpb"

if [[ "${1:-}" == "--refetch" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  pip download --no-deps --only-binary :all: --python-version 3.11 --platform manylinux2014_x86_64 \
    "onnx==$ONNX_VERSION" -d "$tmp" >/dev/null
  echo "$WHEEL_SHA256  $tmp/$WHEEL" | sha256sum -c -
  (cd "$tmp" && unzip -q -o "$WHEEL" onnx/onnx.proto)
  echo "$PROTO_SHA256  $tmp/onnx/onnx.proto" | sha256sum -c -
  # Insert the go_package option right after the package line.
  sed "s|^package onnx;|package onnx;\n\noption go_package = \"$GO_PACKAGE\";|" \
    "$tmp/onnx/onnx.proto" >"$out/onnx.proto"
fi

command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
gobin="$(go env GOPATH)/bin"
if [[ ! -x "$gobin/protoc-gen-go" ]] || [[ "$("$gobin/protoc-gen-go" --version)" != "protoc-gen-go v1.36.12" ]]; then
  go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
fi

PATH="$gobin:$PATH" protoc \
  --proto_path="$out" \
  --go_out="$out" --go_opt=paths=source_relative \
  "$out/onnx.proto"
echo "generated $out/onnx.pb.go"
