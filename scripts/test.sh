#!/usr/bin/env bash
# Install what the tests need, then run the linters and the whole test suite.
# Used by the README's quick start and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# llama-cpp-python is compiled by pip; with default flags it can crash on CPUs without the
# instructions of the build machine, so build it portable. (pip's wheel cache ignores
# CMAKE_ARGS: if a default build was ever cached, run `pip cache remove llama_cpp_python`.)
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"

# System packages for the browser tests (Debian's chromium), when we can install them.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
   && [ "$(id -u)" = 0 ]; then
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"

echo "== ruff"
ruff check src tests bench
ruff format --check src tests bench
echo "== mypy --strict"
mypy
echo "== pytest"
python3 -m pytest "$@"
