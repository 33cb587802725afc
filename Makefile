# k8slab — see README.md. Every target works on a fresh clone with Go installed.
GO          ?= go
BIN         ?= bin/k8slab
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# How long each fuzz target runs in `make test`; raise it for a real hunt.
FUZZTIME    ?= 5s
FUZZ_TARGETS := ./quiz:FuzzParse ./lessons:FuzzParseLesson ./checks:FuzzParseLab ./checks:FuzzCompileExpr ./images:FuzzParse ./lessons:FuzzLoadCourse

# The simulated cluster's binaries (etcd, kube-apiserver, ...), built from the
# Go module proxy by a separate module so this one never imports k8s.io/kubernetes.
SIM_BIN     ?= $(or $(K8SLAB_SIM_BIN),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/k8slab/sim/v1.37.2)

.PHONY: all build run test unit fuzz lint bench sim clean

all: lint test build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/k8slab

run:
	$(GO) run ./cmd/k8slab

# The whole suite: builds the simulator (cached) so the cluster integration
# tests run against real API servers, then unit, TUI golden, CLI and
# integration tests, then each fuzz target briefly. CI=true turns a missing
# simulator into a failure instead of a skip.
test: sim unit fuzz

unit:
	K8SLAB_SIM_BIN=$(SIM_BIN) $(GO) test -count=1 -timeout 20m ./...

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

# Benchmarks: start-up to first frame, lesson rendering (cold and cached),
# simulated cluster up and down.
bench:
	K8SLAB_SIM_BIN=$(SIM_BIN) $(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./...

# Cached: a second run is instant; the first compiles Kubernetes (about 15 min
# on 2 cores; the Go build cache makes later rebuilds take seconds).
sim:
	bash clusterctl/simbuild/build.sh $(SIM_BIN)

clean:
	rm -rf bin
