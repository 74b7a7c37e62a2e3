# hpa-engine — run `make help` for the targets.
SHELL := /usr/bin/env bash
GO    ?= go
# Integration tests (files tagged `integration`) run against the real
# components that hack/testbins.sh builds into .testbin/.
INTEGRATION_TAGS := integration
INTEGRATION_TIMEOUT ?= 45m

.DEFAULT_GOAL := help
.PHONY: help build test test-unit test-integration bench lint verify testbins clean

help: ## Show the targets and what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/hpa-engine
	$(GO) build -o bin/hpa-engine ./cmd/hpa-engine

testbins: ## Build the pinned Prometheus, kube-apiserver, kube-controller-manager and etcd into .testbin/ (reused when present)
	bash hack/testbins.sh

test: lint test-unit test-integration test-conformance ## Everything CI runs: lint, unit tests, integration tests (builds the test binaries first)

test-unit: ## Unit tests with the race detector; no external processes
	$(GO) test -race -count=1 ./...

test-integration: testbins ## Integration and end-to-end tests against real Prometheus, etcd, kube-apiserver and kube-controller-manager
	$(GO) test -tags $(INTEGRATION_TAGS) -count=1 -timeout $(INTEGRATION_TIMEOUT) ./...

.PHONY: test-conformance
test-conformance: ## Differential test of recommender/ against upstream's HPA controller, seeded (CONFORMANCE_SEED, CONFORMANCE_SCENARIOS); a cold compile takes minutes
	bash test/conformance/run.sh

bench: testbins ## Benchmarks, printing their figures (some start the test bed)
	$(GO) test -tags $(INTEGRATION_TAGS) -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./...

lint: ## gofmt and go vet (with and without the integration tag)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.testbin/*')); \
	  if [ -n "$$out" ]; then echo "not gofmt-ed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags $(INTEGRATION_TAGS) ./...
	cd hack/testbins && $(GO) vet ./...

verify: lint ## lint, plus checks that go.mod and generated files are up to date
	$(GO) mod tidy -diff
	cd hack/testbins && $(GO) mod tidy -diff
	bash hack/generate.sh --verify

.PHONY: generate
generate: ## Regenerate the Autoscaler API's deepcopy and CRD YAML with controller-gen (pinned in hack/tools), and the dashboards
	bash hack/generate.sh

.PHONY: dashboards sync-dashboards
dashboards: ## Regenerate the Grafana dashboards (dashboards/*.json) from dashboards/*.go and copy them into the chart
	bash hack/generate.sh --dashboards

sync-dashboards: ## Copy dashboards/*.json into charts/hpa-engine/dashboards/ (make verify fails when the copy is stale)
	bash hack/generate.sh --sync-dashboards

clean: ## Remove build outputs (keeps .testbin/)
	rm -rf bin
