# k8slab — see README.md. Every target works on a fresh clone with Go installed.
GO          ?= go
BIN         ?= bin/k8slab
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# How long each fuzz target runs in `make test`; raise it for a real hunt.
FUZZTIME    ?= 5s
FUZZ_TARGETS := ./quiz:FuzzParse ./lessons:FuzzParseLesson

.PHONY: all build run test unit fuzz lint bench clean

all: lint test build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/k8slab

run:
	$(GO) run ./cmd/k8slab

# The test suite: unit, TUI golden and CLI tests, then each fuzz target briefly.
test: unit fuzz

unit:
	$(GO) test -count=1 ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run ./cmd/k8slab lint

# Benchmarks: start-up to first frame, lesson rendering (cold and cached).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

clean:
	rm -rf bin
