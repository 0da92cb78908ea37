#!/usr/bin/env bash
# Build the documentation site into site/ (or $1), offline, failing on any warning.
# Installs pytavern with its `docs` extra into .venv-docs (a venv that sees the system's
# packages, so the runtime dependencies installed there are reused), once.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${PYTAVERN_DOCS_VENV:-.venv-docs}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv --system-site-packages "$venv"
fi
if ! "$venv/bin/python" -c "import mkdocs, mkdocstrings_handlers.python" 2>/dev/null; then
  # (pip's notes about this machine's package mirrors are not the docs' warnings)
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[docs]" \
    2> >(grep -v "Location '.*' is ignored" >&2)
fi
PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" "$venv/bin/python" -m mkdocs build --strict --site-dir "${1:-site}"
