#!/bin/sh
# Installs Switchyard from BUILD_DIR into a temporary prefix, builds examples/embed against it with
# find_package(switchyard), and runs the example.
#   embed_test.sh SOURCE_DIR BUILD_DIR CXX_COMPILER [COMPILER_LAUNCHER]
set -eu
source_dir="$1"; build_dir="$2"; cxx="$3"; launcher="${4:-}"
work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-embed.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log"
test -f "$work/prefix/lib/cmake/switchyard/switchyardConfig.cmake"
test -f "$work/prefix/include/switchyard/orchestrator/engine.hpp"
# The installed headers stay free of libpqxx and Beast.
if grep -rlE '#include <(pqxx|boost/beast)' "$work/prefix/include"; then
  echo "embed_test: an installed header includes pqxx or Beast" >&2
  exit 1
fi
test -x "$work/prefix/bin/switchyard"

set -- -S "$source_dir/examples/embed" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ -n "$launcher" ]; then set -- "$@" -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"; fi
if command -v ninja >/dev/null; then set -- "$@" -G Ninja; fi
cmake "$@" >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }

# The engine starts a private PostgreSQL in this data directory (as an unprivileged user when
# run as root, so the directory must be reachable).
chmod 755 "$work"
"$work/build/embed_example" "$work/data" >"$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }
cat "$work/run.log"
# The engine logs (spdlog) on stdout too: the example's own line is its result.
output="$(grep -E '^(SUCCEEDED|FAILED|TIMED_OUT|ABORTED|RUNNING) ' "$work/run.log")"
test "$output" = 'SUCCEEDED {"message":"hello, embedder"} after 2 calls'
echo "embed_test: ok"
