# Front door. `make demo` and `make test` work on a fresh Debian 12 machine: both run setup
# (apt + pinned npm artefacts), build with CMake, and then tag the fixtures or run every test.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all setup build fixtures demo test test-asan bench clean format

all: build

setup:
	@scripts/setup.sh

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: setup $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

fixtures: build
	@tools/make_fixtures.sh $(BUILD)/fixtures

demo: fixtures
	@scripts/demo.sh $(BUILD)

test: fixtures
	cd $(BUILD) && ctest --output-on-failure -j 2

test-asan: setup fixtures
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAITAG_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	rm -rf $(ASAN_BUILD)/fixtures && ln -s ../$(BUILD)/fixtures $(ASAN_BUILD)/fixtures
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2 -LE slow

bench: fixtures
	@bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
