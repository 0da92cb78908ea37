"""Cost of listing the backend specs, as a ratio to importing the provider contract.

Each round starts a fresh interpreter and times, inside it,
``import pytavern.providers.base`` (the contract every caller already pays for: types,
events, pydantic) and then ``pytavern.providers.specs()`` (every backend module and its
options model). Prints the medians and the ratio specs/contract; the target is <= 1.0
(listing every backend costs no more than the contract it builds on).
It also checks that listing imported no HTTP client or model runtime.

    PYTHONPATH=src python bench/spec_listing.py [rounds]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

PROBE = """
import json, sys, time
start = time.perf_counter()
import pytavern.providers.base
contract = time.perf_counter() - start
start = time.perf_counter()
from pytavern.providers import specs
count = len(specs())
listing = time.perf_counter() - start
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'aiohttp', 'llama_cpp', 'tiktoken'})
print(json.dumps({"contract": contract, "listing": listing, "count": count, "heavy": heavy}))
"""


def one_round() -> dict[str, object]:
    """Time one fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def main() -> None:
    """Run the rounds and print the medians and the ratio."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    results = [one_round() for _ in range(rounds)]
    contract = statistics.median(float(str(r["contract"])) for r in results)
    listing = statistics.median(float(str(r["listing"])) for r in results)
    print(f"specs: {results[0]['count']}, heavy modules imported: {results[0]['heavy']}")
    print(f"contract import {contract * 1000:.1f} ms, listing specs {listing * 1000:.1f} ms")
    print(f"ratio listing/contract: {listing / contract:.2f} (target <= 1.0)")


if __name__ == "__main__":
    main()
