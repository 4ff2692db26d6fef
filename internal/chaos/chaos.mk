# The reliability and security suite (internal/chaos). Included
# from the Makefile: -include internal/chaos/chaos.mk
# Its short form runs with every other test in `make test`.

CHAOS_OUT    ?= $(BIN)/chaos
CHAOS_REPORT ?= docs/reliability.md

## chaos: (root) reliability suite, short then long form (~12 min); rewrites docs/reliability.md from the results
chaos:
	@rm -rf $(CHAOS_OUT) && mkdir -p $(CHAOS_OUT)
	@status=0; \
	MESHDNS_CHAOS_OUT=$(abspath $(CHAOS_OUT)) $(GO) test -count=1 -timeout 30m -v ./internal/chaos/ || status=1; \
	MESHDNS_CHAOS_OUT=$(abspath $(CHAOS_OUT)) $(GO) test -count=1 -timeout 60m -v ./internal/chaos/ -chaos.long || status=1; \
	MESHDNS_CHAOS_OUT=$(abspath $(CHAOS_OUT)) MESHDNS_CHAOS_REPORT=$(abspath $(CHAOS_REPORT)) \
	  $(GO) test -count=1 -run '^TestWriteReport$$' ./internal/chaos/ || status=1; \
	echo "chaos: results in $(CHAOS_OUT), report $(CHAOS_REPORT)"; \
	exit $$status

## chaos-race: (root) short reliability suite against meshdns built with -race, the suite and load generator under -race too
chaos-race:
	$(GO) build -race -o $(BIN)/meshdns-race ./cmd/meshdns
	MESHDNS_BIN=$(abspath $(BIN)/meshdns-race) $(GO) test -race -count=1 -timeout 30m ./internal/chaos/ ./internal/loadgen/

.PHONY: chaos chaos-race
