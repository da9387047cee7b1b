// Package ortlib finds, verifies and initialises the ONNX Runtime shared
// library, once per process.
//
// The library comes from the npm package onnxruntime-node@1.30.0 and is cached
// by scripts/fetch-ort.sh in .cache/ort/; GLASSBOX_ORT_LIB overrides the path.
// Every failure is reported as one sentence that says how to fix it, instead of
// a cgo crash deep inside a session. Init unsets ORT_LOAD_CONFIG_FROM_MODEL,
// so no model can choose its own session options.
package ortlib
