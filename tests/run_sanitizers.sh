#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run of the whole test suite.
#
#   bash tests/run_sanitizers.sh [pytest args...]      (default: tests -q)
#
# Copies the working tree to /tmp/fastact-asan/src (so the instrumented
# extension never replaces the in-place build of the checkout), builds it with
#   CFLAGS="-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -g"
# into its own venv (/tmp/fastact-asan/venv, with the system site-packages for
# numpy/pytest/hypothesis), and runs pytest there with the ASan runtime
# preloaded (the Python interpreter itself is not instrumented):
#   LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0
# Every sanitizer report is fatal (halt_on_error / abort_on_error), so
# "N passed" at the end means the suite ran clean.  The reports, if any, are
# also written to /tmp/fastact-asan/logs/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=/tmp/fastact-asan
rm -rf "$root/src" "$root/logs"
mkdir -p "$root/src" "$root/logs"
# the sources only: no build products of the checkout
tar -C "$here" --exclude=.git --exclude=build --exclude='*.so' --exclude='fastact/_ext.c' \
    --exclude='*.o' --exclude=.pytest_cache --exclude=.benchmarks -cf - . | tar -C "$root/src" -xf -
[ -x "$root/venv/bin/python" ] || python3 -m venv --system-site-packages "$root/venv"
san="-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -g"
cd "$root/src"
CC=gcc CFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" FASTACT_REQUIRE_OPENMP=1 \
    "$root/venv/bin/python" -m pip install -q --no-build-isolation --no-deps -e .
libasan=$(gcc -print-file-name=libasan.so)
libubsan=$(gcc -print-file-name=libubsan.so)
# OpenMP worker threads and fastact's own threads are exercised too.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$root/logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$root/logs/ubsan"
[ $# -gt 0 ] || set -- tests -q -p no:cacheprovider
LD_PRELOAD="$libasan:$libubsan" "$root/venv/bin/python" -c \
    "import fastact, fastact._ext as e; assert e.__file__.startswith('$root/src'), e.__file__; print('sanitized build:', e.__file__)"
status=0
LD_PRELOAD="$libasan:$libubsan" "$root/venv/bin/python" -m pytest "$@" || status=$?
if ls "$root/logs"/* >/dev/null 2>&1; then
    echo "sanitizer reports:"; cat "$root/logs"/*; status=1
else
    echo "sanitizers: no reports"
fi
exit $status
