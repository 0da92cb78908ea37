"""The ``pytavern`` command line (filled in by the CLI modules)."""

from __future__ import annotations


def main() -> None:
    """Run the pytavern command line."""
    raise SystemExit("pytavern: the command line is not built yet")
