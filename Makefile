# Quick-start wrapper around CMake. `make demo` and `make test` work on a fresh Debian 12 machine.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps deps-build build demo test test-sanitize fuzz fuzz-long sanitize-and-fuzz bench format clean check-build-deps

all: build

# Debian packages: `deps-build` is what building the library and the CLI reads (all `make demo`
# needs); `deps` adds the tests, the sanitizer and fuzzing build, the PyTorch oracles and benchmarks.
deps:
	@scripts/install-deps.sh all

deps-build:
	@scripts/install-deps.sh build

# Configured once with the tests off, so `make demo` needs only the build group; `make test`
# re-runs the configure step with them on (a few seconds; the library objects are kept).
$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DFT_BUILD_TESTS=OFF -DFT_BUILD_BENCH=OFF $(CMAKE_FLAGS)

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DFT_BUILD_TESTS=ON -DFT_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# The demo: offline, on a fresh machine, building only the `finetune` CLI. A small randomly
# initialised DistilBERT (data/demo) learns GLUE CoLA from scratch (the embedded copy), is
# evaluated each epoch, the best epoch is kept, reloaded to predict two sentences, and the
# training curves are drawn. The seed's full recipe is `build/finetune train`.
DEMO_OUT ?= demo-output
demo: deps-build $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target finetune
	scripts/demo.sh $(BUILD)/finetune $(DEMO_OUT)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Every system file the build read comes from a package scripts/install-deps.sh installs.
check-build-deps:
	scripts/check-build-deps.py $(BUILD) --group all

# The test suite once more under AddressSanitizer and UndefinedBehaviorSanitizer.
test-sanitize: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFT_SANITIZE=ON -DFT_BUILD_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer targets, each run for FUZZ_SECONDS on its seed corpus.
FUZZ_SECONDS ?= 60
fuzz: deps
	CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFT_FUZZ=ON -DFT_BUILD_TESTS=OFF -DFT_BUILD_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS)
	scripts/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS)

# Long runs that grow the committed corpora: each fuzzer (all, or the names in FUZZ_LONG_FUZZERS,
# e.g. "config tokenizer_json") runs FUZZ_LONG_SECONDS on fuzz/corpus/<name>/, and the new inputs
# that add coverage are merged into it (-merge=1). The table of executions, edges and corpus sizes
# goes to stdout and FUZZ_LONG_REPORT; a crash fails the target and its reproducer stays in
# build-fuzz/fuzz-long-artifacts/. Commit the grown corpora afterwards.
FUZZ_LONG_SECONDS ?= 600
FUZZ_LONG_REPORT ?= build-fuzz/fuzz-long-report.md
FUZZ_LONG_FUZZERS ?=
fuzz-long: deps
	CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFT_FUZZ=ON -DFT_BUILD_TESTS=OFF -DFT_BUILD_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS)
	scripts/fuzz-long.sh build-fuzz $(FUZZ_LONG_SECONDS) $(FUZZ_LONG_REPORT) $(FUZZ_LONG_FUZZERS)

# Tests left out of the sanitizer run (they run in `make test`): a numeric sweep that takes
# minutes under ASan and exercises no memory handling the rest of the suite does not. (The crash
# and parity tests run there too since they stopped racing timers: ~40 s together.)
SANITIZE_SKIP ?= OpsLinear.OneDnnFloatMatchesDouble

# CI's second half in one build: clang with ASan+UBSan and the fuzzing instrumentation runs the
# whole test suite, then each fuzzer for FUZZ_SECONDS (one sanitizer build instead of two).
sanitize-and-fuzz: deps
	CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFT_FUZZ=ON -DFT_BUILD_TESTS=ON -DFT_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DFT_GLUE_OPT=-O0
	cmake --build build-fuzz -j $(JOBS)
	cd build-fuzz && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -E '$(SANITIZE_SKIP)'
	scripts/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	scripts/run-benchmarks.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
