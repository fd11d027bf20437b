#!/usr/bin/env bash
# valgrind_stubs.sh TEST_BINARY OUT_DIR - stubs (plugin/make-stub.sh) of the JPEG XL libraries
# that TEST_BINARY loads through libavcodec, for make test-valgrind: libjxl pulls in libhwy,
# whose load-time code runs RDTSCP, an instruction valgrind refuses (SIGILL) on CPUs whose CPUID
# does not announce it (AMD EPYC VMs among them). Run with LD_LIBRARY_PATH=OUT_DIR, a test loads
# the stubs (no code of the real libraries, no dependencies: libhwy stays out) and everything
# else as usual; no test decodes JPEG XL, and a stub that is called aborts naming itself.
set -euo pipefail
bin=$1 out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
ldd "$bin" | awk '$1 ~ /^libjxl/ && $3 ~ /^\// {print $1, $3}' | while read -r name path; do
    [ -f "$out/$name" ] || "$root/plugin/make-stub.sh" "$path" "$out/$name"
done
