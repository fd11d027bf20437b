# Front door. `make demo` and `make test` work on a fresh Debian 12 machine: both run setup
# (apt + pinned npm artefacts), build with CMake, and then tag the fixtures or run every test.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all setup build fixtures demo test test-asan test-allocfail test-allocfail-all test-tsan test-tsan-all test-valgrind test-valgrind-all lint fuzz fuzz-long bench bench-gateway bench-sampling bench-faces bench-people bench-context bench-review bench-scale clean format \
	plugin install uninstall

all: build

setup:
	@scripts/setup.sh

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: setup $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

fixtures: build
	@tools/make_fixtures.sh $(BUILD)/fixtures
	@tools/make_cue_fixtures.sh $(BUILD)/fixtures/cues
	@tools/make_faceid_fixtures.sh $(BUILD)/fixtures/faceid
	@tools/make_speech_fixtures.sh $(BUILD)/fixtures/speech
	@tools/make_hostile_fixtures.sh $(BUILD)/fixtures/hostile

demo: fixtures
	@scripts/demo.sh $(BUILD)

test: fixtures
	cd $(BUILD) && ctest --output-on-failure -j 2

test-asan: setup fixtures
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAITAG_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	rm -rf $(ASAN_BUILD)/fixtures && ln -s ../$(BUILD)/fixtures $(ASAN_BUILD)/fixtures
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2 -LE slow

# Allocation failures: in the sanitizer build each unit test below runs once per allocation that
# the project's code (and the test) makes, with that allocation failing, and must end without a
# crash, a sanitizer report, a leak or a hang (tests/alloc_fail.c, tests/alloc_fail.sh).
# Reuses $(ASAN_BUILD): after test-asan nothing is left to build.
# ALLOCFAIL_TESTS: every allocation. ALLOCFAIL_SAMPLED: TEST:k fails every kth allocation,
# TEST:/r about r spread over the test's, for tests with thousands of allocations or a costly
# run (the catalog tests open a SQLite catalog each run, test_gw_key_cache waits out its expiry
# times). ALLOCFAIL_HEAVY: one allocation each (TEST:/1), tests that decode media or run ONNX
# Runtime models (seconds a run), two tests at a time. Which allocations a sample fails moves
# with ALLOCFAIL_OFFSET (default: from the commit), so that CI runs of successive commits fail
# different ones; each test's line says which N it failed (reproduce: AITAG_ALLOC_FAIL=N
# $(ASAN_BUILD)/TEST). ALLOCFAIL_LONG is left to `make test-allocfail-all` for time (a run
# takes 8 to 50 s there); that target runs every unit test at every allocation (hours).
# Without allocations of their own: test_geometry, test_split_csv, test_retry_after,
# test_curl_init, test_threshold_fit, test_vlm_options.
ALLOCFAIL_TESTS = test_buf test_base64 test_concepts test_faceid test_text_words test_installer \
	test_path_map test_gw_tag_fs test_gw_settle test_gw_utf8 test_gw_tag_request test_gw_charge \
	test_gw_metrics test_remote test_remote_answer \
	test_sampling_accuracy test_score test_corrections test_adaptive_plan test_vlm test_policy \
	test_web_requests test_media_pixels
ALLOCFAIL_SAMPLED = test_context:61 test_options:64 test_plugin_settings:32 test_gw_redact:32 \
	test_gw_key_cache:16 test_catalog:64 test_catalog_upkeep:8 test_people:64 test_people_user:64 \
	test_faces_catalog:16 test_claims:8 test_persist:8 test_gateway:8 test_cues:16 \
	test_stash_answers:16 test_pipeline_remote:16 test_pipeline_decode_oom:16 test_convert:8 \
	test_media_limits:8
ALLOCFAIL_HEAVY = test_shots test_infer test_pipeline test_faces test_speech test_sampling
ALLOCFAIL_LONG = test_media test_graph test_stash test_text test_parity test_objects_mirror_gate \
	test_face_attrs test_pose test_objects_flip test_zoo test_custom_models
ALLOCFAIL_OFFSET ?= $(shell printf '%d' 0x$$(git rev-parse --short=7 HEAD 2>/dev/null || echo 0))
# The heavy ones two at a time, each runner on one core; the status of both counts.
define allocfail_heavy
	@JOBS=1 OFFSET=$(ALLOCFAIL_OFFSET) tests/alloc_fail.sh $(ASAN_BUILD) \
	  $(patsubst %,%:/1,$(wordlist 1,3,$(ALLOCFAIL_HEAVY))) & pid=$$!; \
	JOBS=1 OFFSET=$(ALLOCFAIL_OFFSET) tests/alloc_fail.sh $(ASAN_BUILD) \
	  $(patsubst %,%:/1,$(wordlist 4,99,$(ALLOCFAIL_HEAVY))); b=$$?; wait $$pid; a=$$?; \
	exit $$((a + b))
endef
test-allocfail: setup fixtures
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAITAG_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	rm -rf $(ASAN_BUILD)/fixtures && ln -s ../$(BUILD)/fixtures $(ASAN_BUILD)/fixtures
	JOBS=$(JOBS) OFFSET=$(ALLOCFAIL_OFFSET) tests/alloc_fail.sh $(ASAN_BUILD) $(ALLOCFAIL_TESTS) \
	  $(ALLOCFAIL_SAMPLED)
	$(allocfail_heavy)

# Every unit test, every allocation: N = 1..all (hours; not in CI).
test-allocfail-all: setup fixtures
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAITAG_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	rm -rf $(ASAN_BUILD)/fixtures && ln -s ../$(BUILD)/fixtures $(ASAN_BUILD)/fixtures
	JOBS=$(JOBS) tests/alloc_fail.sh $(ASAN_BUILD) \
	  $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

# ThreadSanitizer over the tests whose code runs threads: the pipeline (decoder thread, queue,
# cancel), the gateway (event loop, workers, usage thread) and the Stash plugin run by Stash
# (tests/e2e/plugin_*.sh: the aitag binary against the Stash double). ONNX Runtime and FFmpeg are
# not instrumented; tests/tsan.supp names what is theirs. Any report fails the target.
# Of the plugin tests CI runs those that take under a minute there (TSAN_TESTS, 10 to 25 s each;
# plugin_gateway too, by its name). The others tag whole videos with several analyzers:
# plugin_tag 75 s, plugin_readback 30 s, plugin_enqueue 28 s under TSan on this 2-core machine,
# and the slow-labelled plugin_faults, plugin_kill and plugin_package minutes each, more than
# CI's time allows; `make test-tsan-all` runs every test that matches, slow ones included.
TSAN_BUILD ?= build-tsan
TSAN_TESTS ?= pipeline|gateway|remote|e2e_plugin_(categories|cues|hook|people|performer_faces|performers|sinks|speech|vlm)$$
TSAN_EXCLUDE ?= slow
test-tsan-all: TSAN_TESTS = pipeline|gateway|remote|e2e_plugin_
test-tsan-all: TSAN_EXCLUDE =
test-tsan-all: test-tsan
test-tsan: setup fixtures
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAITAG_TSAN=ON >/dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	rm -rf $(TSAN_BUILD)/fixtures $(TSAN_BUILD)/tsan && mkdir -p $(TSAN_BUILD)/tsan
	ln -s ../$(BUILD)/fixtures $(TSAN_BUILD)/fixtures
	cd $(TSAN_BUILD) && TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp log_path=$(CURDIR)/$(TSAN_BUILD)/tsan/report second_deadlock_stack=1" \
	  ctest --output-on-failure -j 2 -R '$(TSAN_TESTS)' $(if $(TSAN_EXCLUDE),-LE $(TSAN_EXCLUDE))
	@if ls $(TSAN_BUILD)/tsan/report.* >/dev/null 2>&1; then \
	  echo "test-tsan: ThreadSanitizer reports:"; cat $(TSAN_BUILD)/tsan/report.*; exit 1; fi
	@echo "test-tsan: no ThreadSanitizer report"

# valgrind memcheck over unit tests of the RelWithDebInfo build in $(BUILD), two at a time: an
# invalid read or write, a use of uninitialised memory or a definite leak fails the target (and
# prints that test's log from $(BUILD)/valgrind/). tests/valgrind.supp: third-party frames only.
# Tests that load FFmpeg run with stubs of the JPEG XL libraries (tests/valgrind_stubs.sh, in
# $(BUILD)/valgrind-stubs): libjxl pulls in libhwy, whose load-time code runs RDTSCP, which
# valgrind refuses (SIGILL) on CPUs whose CPUID does not announce it (AMD EPYC VMs among them).
# Left out (VALGRIND_SKIP):
#  - for time, the tests that run ONNX Runtime models (minutes each under valgrind; test_faces
#    unfinished after 250 s on this 2-core machine, test_convert and test_infer after 400 s);
#    ASan (make test-asan) covers them;
#  - VALGRIND_LONG, for time in CI (29 to 94 s each under valgrind; all clean on 2026-12-08):
#    `make test-valgrind-all` runs them too;
#  - test_speech: an ONNX Runtime worker thread reads memory that the exit handlers freed after
#    the test released everything (ORT frames only, a thread started inside ORT); not
#    investigated further.
VALGRIND_LONG = test_media test_shots test_sampling test_pipeline_decode_oom
VALGRIND_SKIP = test_custom_models test_face_attrs test_faces test_graph test_objects_flip \
	test_objects_mirror_gate test_parity test_pipeline test_pose test_text test_zoo test_convert \
	test_infer test_speech $(VALGRIND_LONG)
VALGRIND_TESTS = $(filter-out $(VALGRIND_SKIP),$(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c)))
test-valgrind: fixtures
	@rm -rf $(BUILD)/valgrind && mkdir -p $(BUILD)/valgrind
	@tests/valgrind_stubs.sh $(BUILD)/test_media $(BUILD)/valgrind-stubs
	@cd $(BUILD) && printf '%s\n' $(VALGRIND_TESTS) | xargs -P 2 -I{} sh -c '\
	  LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/valgrind-stubs \
	  valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	    --suppressions=$(CURDIR)/tests/valgrind.supp --num-callers=30 --log-file=valgrind/{}.log \
	    ./{} >valgrind/{}.out 2>&1 \
	  && echo "valgrind {}: clean" \
	  || { tail -n 5 valgrind/{}.out; cat valgrind/{}.log; exit 255; }'
test-valgrind-all: VALGRIND_LONG =
test-valgrind-all: test-valgrind

# Static analysis of src/, any finding fails: clang-tidy with the checks in .clang-tidy (each
# check left out has its reason there) over $(BUILD)/compile_commands.json, files LINT_JOBS at a
# time, and cppcheck with tests/lint/cppcheck.cfg (macros of headers it does not read) and
# tests/lint/cppcheck.supp (a reason per entry). A false positive on one line is suppressed on
# that line, with its reason: /* NOLINT(check): why */ or /* cppcheck-suppress id ; why */.
# About 1 minute of CPU each on 2 cores (clang-analyzer, 6-8x that, is not run).
LINT_JOBS ?= 2
lint: build
	@jq --arg src "$(CURDIR)/src/" '[.[] | select(.file | startswith($$src))]' \
	  $(BUILD)/compile_commands.json >$(BUILD)/compile_commands_src.json
	git ls-files 'src/*.c' | xargs -P $(LINT_JOBS) -n 8 clang-tidy -p $(BUILD) --quiet 2>/dev/null
	cppcheck --project=$(BUILD)/compile_commands_src.json -j $(LINT_JOBS) --quiet --error-exitcode=1 \
	  --enable=warning,performance,portability --inline-suppr --library=posix \
	  --library=tests/lint/cppcheck.cfg --suppressions-list=tests/lint/cppcheck.supp \
	  --template=gcc
	@echo "lint: no finding"

# `make fuzz`: every target in tests/fuzz for FUZZ_SECONDS (CI: 2 s each); `make fuzz-long`:
# the same for 10 minutes each, before a release or after a parser changed. FUZZ_SEED: libFuzzer's
# seed; 0 (the default) takes a new one each run. CI gives a fixed one, so its short runs are
# repeatable; new seeds, and the crashes only they find, are for fuzz-long.
FUZZ_SECONDS ?= 20
FUZZ_SEED ?= 0
fuzz-long: FUZZ_SECONDS = 600
fuzz-long: fuzz
FUZZ_TARGETS = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz: setup
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DAITAG_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS:%=fuzz_%)
	@# $(JOBS) targets at a time, each on a core of its own for FUZZ_SECONDS; the first crash
	@# stops the rest (xargs stops on a command's exit 255) and fails the target
	@printf '%s\n' $(FUZZ_TARGETS) | xargs -P $(JOBS) -I{} sh -c '\
	  mkdir -p build-fuzz/corpus-{} && \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    build-fuzz/fuzz_{} -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) \
	    -max_len=65536 -artifact_prefix=build-fuzz/fuzz_{}- build-fuzz/corpus-{} tests/fuzz/corpus/{} 2>build-fuzz/fuzz_{}.log \
	  && echo "fuzz_{}: no crash in $(FUZZ_SECONDS) s" \
	  || { tail -n 30 build-fuzz/fuzz_{}.log; exit 255; }'

# `make install` (after `make build`; as root for the default PREFIX): bin/aitag,
# lib/aitag/libonnxruntime.so.1, share/aitag/{models,weights}, the man page and the bash and zsh
# completions under $(DESTDIR)$(PREFIX). `make uninstall` (same DESTDIR) removes every file the
# last install from this build folder wrote ($(BUILD)/install_manifest.txt).
PREFIX ?= /usr/local
install:
	@test -x $(BUILD)/aitag || $(MAKE) build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

uninstall:
	@scripts/uninstall.sh "$(BUILD)/install_manifest.txt" "$(DESTDIR)"

# The Stash plugin: build/plugin/aitag/ (folder), aitag.zip and index.yml (a plugin source).
plugin: build
	@plugin/package.sh $(BUILD)

bench: fixtures
	@bench/run.sh $(BUILD)

# Sampling modes against dense exact sampling on grainy clips with cuts, fades and dissolves
# (~20 minutes on 2 cores, plus ~10 once to encode): bench/sampling.sh, BENCHMARKS.md.
bench-sampling: build
	@bench/sampling.sh $(BUILD)

# False faces per 1,000 people-free frames against recall, for the faces analyzer's detector
# threshold and verification stage (a few minutes on 2 cores): bench/faces_verify.sh, BENCHMARKS.md.
bench-faces: build
	@bench/faces_verify.sh $(BUILD)

# The gateway against nginx on loopback (wrk; about 7 minutes): bench/gateway.sh, BENCHMARKS.md.
bench-gateway: setup
	@bench/gateway.sh $(BUILD)

# Faces embedded per second and clustering 100k embeddings, against floors (~5-10 minutes):
# bench/people.sh, BENCHMARKS.md "Face embeddings".
bench-people: build
	@bench/people.sh $(BUILD)

# The review app on a 10,000-item catalog: API pages and first paint in headless Chromium,
# against floors (bench/review_app.sh; about a minute): BENCHMARKS.md.
bench-review: fixtures
	@bench/review_app.sh $(BUILD)

# The job queue on a PostgreSQL catalog: its cost per job, and items/s with 1, 2 and 4 workers
# against one aitag tag (bench/scale.sh; a few minutes): BENCHMARKS.md "Scale-out".
bench-scale: build
	@bench/scale.sh $(BUILD)

# What the shipped context rules add to deriving an hour of video (seconds): BENCHMARKS.md.
bench-context: build
	@$(BUILD)/bench_context

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
