#!/usr/bin/env bash
# make-stub.sh REAL_LIBRARY OUT_FILE [ZERO] - writes a stub of REAL_LIBRARY (plugin/stub-libs.txt): a
# shared library with the same SONAME, the same version definitions and every symbol the real
# one exports with its default version (functions; data objects zero-filled, of the same size;
# thread-local data likewise), built without the C library or any dependency. Each function is
# a few instructions that write "aitag: LIB is not bundled in this plugin (SYMBOL called)" to
# stderr and raise SIGABRT, so a call that was thought impossible fails loudly and by name;
# except the functions ZERO names (NAME|NAME...), which return 0. STUB_TRACE=1 makes every
# function print its message and return 0 instead (to find what a program calls).
set -euo pipefail
real=$1 out=$2
name=${out##*/}
soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ -n "$soname" ] || soname=$name
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Version definitions, less the base one (the soname itself).
readelf -V -W "$real" | sed -n '/Version definition section/,/Version needs section/p' |
    sed -n 's/.*Flags: [^ ]*[ ]*Version: [0-9]*[ ]*Cnt: [0-9]*[ ]*Name: \([^ ]*\).*/\1/p' |
    grep -vxF "$soname" >"$work/versions" || true

# Defined dynamic symbols with their default version: TYPE SIZE NAME VERSION.
readelf --dyn-syms -W "$real" | awk '
  $1 ~ /^[0-9]+:$/ && $7 != "UND" && $7 != "ABS" && ($5 == "GLOBAL" || $5 == "WEAK" || $5 == "UNIQUE") {
    n = $8; v = ""
    if (index(n, "@@")) { v = substr(n, index(n, "@@") + 2); n = substr(n, 1, index(n, "@@") - 1) }
    else if (index(n, "@")) next   # a hidden (non-default) version: old binaries only
    size = $3
    if (size ~ /^0x/) { h = tolower(substr(size, 3)); size = 0
      for (k = 1; k <= length(h); k++) size = size * 16 + index("0123456789abcdef", substr(h, k, 1)) - 1 }
    print $4, size, n, v
  }' | sort -u -k3,3 >"$work/syms"

awk -v lib="$soname" -v zero="^(${3:-})$" -v trace="${STUB_TRACE:-}" '
  BEGIN { print ".text"; print "aitag_stub_fail:"
          print "  mov $1, %eax\n  mov $2, %edi\n  syscall"          # write(2, msg, len)
          print "  mov $39, %eax\n  syscall\n  mov %eax, %edi"         # getpid()
          print "  mov $6, %esi\n  mov $62, %eax\n  syscall"           # kill(pid, SIGABRT)
          print "  mov $134, %edi\n  mov $231, %eax\n  syscall"       # exit_group(134)
          print "aitag_stub_trace:\n  mov $1, %eax\n  mov $2, %edi\n  syscall\n  xor %eax, %eax\n  ret" }
  {
    t = $1; size = $2 + 0; n = $3; i++
    if ((t == "FUNC" || t == "IFUNC" || t == "NOTYPE") && zero != "^()$" && n ~ zero && trace == "") {
      printf ".text\n.globl %s\n.type %s,@function\n%s:\n  xor %%eax, %%eax\n  ret\n", n, n, n
    } else if (t == "FUNC" || t == "IFUNC" || t == "NOTYPE") {
      msg = "aitag: " lib " is not bundled in this plugin (" n " called)\n"
      printf ".text\n.globl %s\n.type %s,@function\n%s:\n  lea .Lm%d(%%rip), %%rsi\n  mov $%d, %%edx\n  jmp %s\n", n, n, n, i, length(msg), trace != "" ? "aitag_stub_trace" : "aitag_stub_fail"
      printf ".section .rodata\n.Lm%d: .ascii \"%s\\n\"\n", i, substr(msg, 1, length(msg) - 1)
    } else if (t == "TLS") {
      printf ".section .tbss,\"awT\",@nobits\n.globl %s\n.type %s,@tls_object\n.size %s,%d\n%s: .zero %d\n", n, n, n, size, n, (size > 0 ? size : 1)
    } else {
      printf ".bss\n.globl %s\n.type %s,@object\n.size %s,%d\n%s: .zero %d\n", n, n, n, size, n, (size > 0 ? size : 1)
    }
  }
  END { print ".section .note.GNU-stack,\"\",@progbits" }' "$work/syms" >"$work/stub.S"

# The version script: each symbol in its version's node (unversioned ones in the first node).
awk -v vfile="$work/versions" '
  BEGIN { while ((getline v < vfile) > 0) { order[++nv] = v; seen[v] = 1 } }
  { v = $4; if (v == "") v = "-"; if (v != "-" && !seen[v]) { order[++nv] = v; seen[v] = 1 }
    syms[v] = syms[v] "    " $3 ";\n" }
  END {
    if (nv == 0) { printf "{\n  global:\n%s  local: *;\n};\n", syms["-"]; exit }
    for (k = 1; k <= nv; k++) {
      v = order[k]; s = syms[v]; if (k == 1) s = s syms["-"]
      printf "%s {\n", v; if (s != "") printf "  global:\n%s", s
      if (k == 1) printf "  local: *;\n"
      printf "};\n"
    }
  }' "$work/syms" >"$work/stub.map"

gcc -shared -nostdlib -o "$out" "$work/stub.S" -Wl,-soname,"$soname" \
    -Wl,--version-script="$work/stub.map" -Wl,-z,noexecstack -Wl,--hash-style=both -s
