# Glassbox: `make run` sets everything up and explains the bundled sample data;
# `make test` runs every test. Both work on a fresh clone with nothing installed by hand.

GO      ?= go
BIN     := bin/glassbox
ORT_LIB := .cache/ort/libonnxruntime.so.1
CONFIG  ?= configs/sample.yaml

.PHONY: all setup build run test vet bench bench-report bench-models chromium models goldens fuzz clean worker

all: build

$(ORT_LIB): scripts/fetch-ort.sh
	./scripts/fetch-ort.sh

## setup: fetch and verify the ONNX Runtime library (cached; never downloaded twice)
setup: $(ORT_LIB)
	@./scripts/fetch-ort.sh >/dev/null

## chromium: install Debian's chromium when no Chromium is found (the report's browser test and `glassbox report --png` use it)
chromium:
	@./scripts/install-chromium.sh

## build: build the CLI into bin/glassbox
build:
	$(GO) build -o $(BIN) ./cmd/glassbox

## run: set up, build and run the main job (the sample corpus, on the embedded Prism runner) into ./out
run: setup build
	./$(BIN) explain --config $(CONFIG)

## test: vet and run every test
test: setup chromium
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...

## bench-report: the report's size and load-time figures (the sample run from `make run`, and a 100,000-row synthetic run)
bench-report:
	GLASSBOX_REPORT_RUN=$(CURDIR)/out $(GO) test -run '^$$' -bench 'ReportOpen|ReportSynthetic' -benchtime 1x -timeout 30m ./report

## bench: run the benchmarks (the DistilBERT-base-sized model comes from `make bench-models`)
bench: setup
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: run every fuzz target of the input readers, the job config, the tokenizer.json loader, the ONNX reader, compare's --fail-on parser and generation's eos_token_id reader for FUZZTIME each, one after another; a failing input is written under the package's testdata/fuzz/ (commit it with the fix: `go test` then runs it as a regression)
FUZZTIME ?= 30s
FUZZ_PKGS := corpus jobconfig tokenizer onnxgraph compare generation
# Go minimises each new interesting input for up to 60 s by default, which stalls
# a short run (the exec count stops for seconds at a time); 100 calls bound it.
FUZZMINIMIZETIME ?= 100x
fuzz:
	@failed=; for pkg in $(FUZZ_PKGS); do \
		names=$$($(GO) test -list '^Fuzz' ./$$pkg) || { echo "$$names"; failed="$$failed $$pkg"; continue; }; \
		for name in $$(echo "$$names" | grep '^Fuzz'); do \
			echo "== $$pkg $$name ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) ./$$pkg || failed="$$failed $$pkg.$$name"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

## models: regenerate the committed test models and sample data (needs Python; never needed by tests)
models:
	./scripts/make-test-models.sh

## bench-models: write the DistilBERT-base-sized random model into .cache/models (needs Python)
bench-models:
	./scripts/make-test-models.sh --bench

## goldens: regenerate the tokenizer goldens with Hugging Face's own tokenizers (needs Node)
goldens:
	cd scripts/tokenizer-goldens && npm install --no-audit --no-fund
	node scripts/gen-tokenizer-goldens.js

clean:
	rm -rf bin out

## worker: the cgo-enabled worker binary for remote runners (--worker_binary=bin/glassbox-worker)
worker:
	CGO_ENABLED=1 GOOS=linux GOARCH=amd64 $(GO) build -o bin/glassbox-worker ./cmd/glassbox
