# meshdns — answers mesh DNS names inside the pod by rewriting NFQUEUE packets.
# Run `make help` for the targets. Kernel tests, the demo and the benchmarks
# need root on Linux (they build their own network namespaces).

export PATH := $(PATH):/usr/local/go/bin
GO       ?= go
BIN      ?= bin
FUZZTIME ?= 10s
PKGS     := ./...

.DEFAULT_GOAL := help

## help: list the targets
help:
	@grep -hE '^## ' $(MAKEFILE_LIST) | sed -e 's/^## //' | awk '{ i = index($$0, ": "); printf "  %-16s %s\n", substr($$0, 1, i - 1), substr($$0, i + 2) }'

## build: build meshdns, its demo and its test upstream into ./bin
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## demo: (root) a demo pod namespace with meshdns answering; installs what it needs
demo: deps build
	$(BIN)/meshdns-demo --meshdns $(BIN)/meshdns --objects examples/objects.yaml

## test-demo: (root) the demo as CI runs it, in namespaces of its own (fails when `make demo` would)
test-demo: build
	$(BIN)/meshdns-demo --meshdns $(BIN)/meshdns --objects examples/objects.yaml --prefix td$$$$

## deps: (root) install the Debian packages the demo and the tests use (scripts/debian-packages)
deps:
	@command -v iptables-restore >/dev/null && command -v dig >/dev/null && command -v conntrack >/dev/null \
	  && command -v tcpdump >/dev/null && command -v dumpcap >/dev/null && command -v dnsperf >/dev/null && command -v dnsmasq >/dev/null \
	  && command -v runc >/dev/null && test -x /usr/lib/cni/bridge && test -x /bin/busybox \
	  || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	      $$(cat scripts/debian-packages))

## lint: gofmt, go vet, and go.mod/go.sum as go mod tidy leaves them (every module)
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)
	@for m in $$(git ls-files 'go.mod' '*/go.mod'); do d=$$(dirname $$m); \
	  (cd $$d && $(GO) mod tidy -diff) || { echo "lint: $$d: go.mod/go.sum not tidy (run go mod tidy there)"; exit 1; }; done

## test: (root) everything CI runs: lint, unit and kernel tests, the demo, race detector, short fuzzing, API server and real-node tests
test: deps lint test-unit test-demo test-race fuzz-short test-apiserver test-node

## test-unit: unit and kernel tests of the main module (kernel tests need root)
test-unit:
	$(GO) test -count=1 $(PKGS)

## test-race: the concurrent packages under the race detector
test-race:
	$(GO) test -count=1 -race ./nfq/... ./sync/... ./dnsengine/... ./exchange/... ./observe/... ./replay/... ./internal/loadgen/... ./node/...

## fuzz-short: every fuzz target of every module for FUZZTIME each (10s in CI)
fuzz-short:
	@./scripts/fuzz.sh $(FUZZTIME)

## fuzz: every fuzz target for 10 minutes each
fuzz:
	@./scripts/fuzz.sh 10m

## test-apiserver: tests against a real kube-apiserver (nested module; cold build ~17 min)
test-apiserver:
	@if [ -f sync/kube/apiservertest/go.mod ]; then cd sync/kube/apiservertest && $(GO) test -count=1 -timeout 60m $$($(GO) list ./... | grep -v /node); fi

## test-node: (root) meshdns pods on a real kubelet v1.37.2 + containerd v2.4.2 node (builds them once, cold ~15 min)
test-node: deps
	cd sync/kube/apiservertest && $(GO) test -count=1 -timeout 60m -v ./node/

## bench-go: engine and queue micro-benchmarks (go test -bench)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./dnsengine/... ./nfq/...

-include bench/bench.mk
-include internal/chaos/chaos.mk

## clean: remove build output
clean:
	rm -rf $(BIN)

.PHONY: help build demo test-demo deps lint test test-unit test-race fuzz-short fuzz test-apiserver test-node bench-go clean
