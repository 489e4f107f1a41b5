# Everyday loop. Each target is a thin wrapper over the go command.
DOCS     ?= ../shared/b24restdocs
OLD_DOCS ?= ../shared/b24restdocs-2026-01
FUZZTIME ?= 5m

.PHONY: all test generate extract report diff bench fuzz vet

all: generate

## test: vet and run every test (corpus tests read $(DOCS), skipping when absent)
test:
	go vet ./...
	B24_DOCS=$(abspath $(DOCS)) go test ./...

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
	B24_DOCS=$(abspath $(DOCS)) go test -run '^$$' -bench . -benchmem -count 5 ./...

## fuzz: run each fuzz target for $(FUZZTIME)
fuzz:
	go test -run '^$$' -fuzz '^FuzzPage$$' -fuzztime $(FUZZTIME) ./generator/extract/
	go test -run '^$$' -fuzz '^FuzzFormRoundTrip$$' -fuzztime $(FUZZTIME) ./templates/b24/
