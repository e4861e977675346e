# ampgrid: the two commands a new user needs are `make run` and `make test`.
# `make` alone builds build/ampgrid.
BUILD      ?= build
TEST_BUILD ?= build-test
DATA_DIR   ?= var
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build run deps test-deps test fuzz bench clean format

all: build

deps:
	@scripts/install-deps.sh

# The dashboard's vendor modules (preact + htm, uPlot), installed from the lock
# file whenever it is newer than what web/node_modules holds; cmake embeds them.
WEB_MODULES := web/node_modules/.package-lock.json

$(WEB_MODULES): web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: run scripts/install-deps.sh" >&2; exit 1; }
	@npm ci --prefix web --no-audit --no-fund --loglevel=error
	@touch $@

build: $(WEB_MODULES)
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: deps build
	$(BUILD)/ampgrid serve --data-dir $(DATA_DIR)

test-deps:
	@scripts/install-deps.sh --test
	@cd tests && npm ci --no-audit --no-fund --loglevel=error

test: test-deps $(WEB_MODULES)
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAMPGRID_TESTS=ON \
	  -DAMPGRID_WERROR=ON -DAMPGRID_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)

fuzz:
	@scripts/install-deps.sh --test
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DAMPGRID_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) build-fuzz

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# The simulator (build/ampgrid-sim) against a fresh release server at 1k, 5k
# and 19k stations; BENCH_ARGS e.g. "--sizes 1000 --throughput 60".
# Then the allocation speed benchmark (bench/alloc_bench.c, a few seconds).
bench: build test-deps
	@AMPGRID_BIN=$(BUILD)/ampgrid node bench/run.js $(BENCH_ARGS)
	@$(BUILD)/ampgrid-alloc-bench
