# Everyday loop. Each target is a thin wrapper over the go command; `make help`
# lists them from their ## comments.
DOCS     ?= ../shared/b24restdocs
OLD_DOCS ?= ../shared/b24restdocs-2026-01
FUZZTIME ?= 5m
# staticcheck is installed through the Go module proxy at this version.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(shell go env GOPATH)/bin/staticcheck
# What make lint runs staticcheck on: the README's tour and the examples
# (conformance, the main generated packages), the runtime and the CLI, the
# generator's later stages and the spec.
LINT_PKGS ?= ./conformance/... ./generated/b24/ ./generated/b24test/ ./generated/crm/ ./generated/tasks/ ./generated/user/ ./generated/events/ ./cmd/... ./generator/ ./generator/resolve/ ./generator/model/ ./generator/emit/ ./spec/...

# Corpus tests read $(DOCS) through B24_DOCS; when it is absent B24_DOCS stays
# unset and they skip, saying why.
DOCS_ENV := $(if $(wildcard $(DOCS)),B24_DOCS=$(abspath $(DOCS)),)

.PHONY: all help test test-adapters test-short vet lint staticcheck generate extract report diff bench fuzz

all: generate

## help: list the targets
help:
	@grep -h '^## ' $(MAKEFILE_LIST) | sed 's/^## //' | awk '{i = index($$0, ": "); printf "  %-12s %s\n", substr($$0, 1, i-1), substr($$0, i+2)}'

## test: vet and run every test (what CI runs; corpus tests skip without $(DOCS))
test: vet
	@$(if $(DOCS_ENV),,echo "make: $(DOCS) is absent: the corpus tests skip (set DOCS=... to run them)")
	$(DOCS_ENV) go test ./...
	$(MAKE) test-adapters

## test-adapters: vet and test the nested adapters module against the real Redis and PostgreSQL (skips a server that is down, unless CI is set)
test-adapters:
	cd adapters && go vet ./... && go test ./...

## test-short: the quick loop: go test -short, no full generate-and-build runs
test-short:
	$(DOCS_ENV) go test -short ./...

## vet: go vet over the module, generated code included
vet:
	go vet ./...

## staticcheck: install staticcheck $(STATICCHECK_VERSION) (module proxy) into GOPATH/bin
staticcheck:
	@test -x $(STATICCHECK) && $(STATICCHECK) -version | grep -q '$(STATICCHECK_VERSION:v%=%)' || go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## lint: go vet, staticcheck on the tour, the examples and the generator, and go mod tidy -diff
lint: vet staticcheck
	$(STATICCHECK) $(LINT_PKGS)
	go mod tidy -diff

## generate: regenerate ./generated from the embedded spec
generate:
	go run ./cmd/b24gen generate

## extract: re-extract spec/bitrix24.json from the pinned docs snapshot
extract:
	go run ./cmd/b24gen extract -docs $(DOCS) -o spec/bitrix24.json

## report: coverage of the docs at $(DOCS)
report:
	go run ./cmd/b24gen report -docs $(DOCS)

## diff: API changes between the older and the pinned snapshot
diff:
	go run ./cmd/b24gen diff $(OLD_DOCS) $(DOCS)

## bench: every benchmark, five runs each (report medians)
bench:
	$(DOCS_ENV) go test -run '^$$' -bench . -benchmem -count 5 ./...

## fuzz: run each fuzz target for $(FUZZTIME)
fuzz:
	go test -run '^$$' -fuzz '^FuzzPage$$' -fuzztime $(FUZZTIME) ./generator/extract/
	go test -run '^$$' -fuzz '^FuzzFormRoundTrip$$' -fuzztime $(FUZZTIME) ./templates/b24/
