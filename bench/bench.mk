# Benchmark harness: see bench/README.md. Included by the top-level Makefile
# (paths are relative to the repository root). bench and bench-quick need
# root (they build network namespaces) and the Debian packages `make deps`
# installs.

BENCH_BIN       ?= bench/bin
BENCH_ARGS      ?=
COREDNS_VERSION ?= v1.15.0
BENCH_BIN_ABS    = $(abspath $(BENCH_BIN))

## bench-tools: build the harness, meshdns, the istio contender, the plotter and (once, ~8 min cold) CoreDNS into bench/bin
bench-tools:
	mkdir -p $(BENCH_BIN)
	$(GO) build -o $(BENCH_BIN)/meshdns-bench ./bench/cmd/meshdns-bench
	$(GO) build -o $(BENCH_BIN)/meshdns ./cmd/meshdns
	cd bench/istio && $(GO) build -o $(BENCH_BIN_ABS)/meshdns-bench-istio .
	cd bench/report && $(GO) build -o $(BENCH_BIN_ABS)/meshdns-bench-plot .
	test -x $(BENCH_BIN)/coredns || GOBIN=$(BENCH_BIN_ABS) $(GO) install github.com/coredns/coredns@$(COREDNS_VERSION)

## bench: (root) the full benchmark (~1 h: 3 rounds of 7 contenders, idle, UDP and TCP workloads) into bench/results/<date>-<host>.{json,md,png}
bench: deps bench-tools
	$(BENCH_BIN)/meshdns-bench run --bin-dir $(BENCH_BIN) $(BENCH_ARGS)

## bench-quick: (root) a two-minute smoke benchmark (1 round, 1 s runs, every workload; results suffixed -quick)
bench-quick: deps bench-tools
	$(BENCH_BIN)/meshdns-bench run --quick --bin-dir $(BENCH_BIN) $(BENCH_ARGS)

## bench-test: the harness's own tests, nested modules included (kernel tests need root)
bench-test:
	$(GO) test -count=1 ./bench/...
	cd bench/istio && $(GO) test -count=1 ./...
	cd bench/report && $(GO) test -count=1 ./...

.PHONY: bench bench-quick bench-tools bench-test
