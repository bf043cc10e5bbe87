"""Hygie against the pass-through floor, from one run's ``results.jsonl`` (stdlib only).

Prints, for every target other than the pass-through and direct, its req/s at the highest
concurrency as a share of the pass-through's (medians of per-round ratios) and, at the lowest
concurrency, the p50 it adds over what the pass-through adds (both measured against direct in
the same round). Usage: ``passthrough_ratio.py RESULTS.jsonl``.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from typing import Any

FLOOR = "passthrough"


def main(path: str) -> int:
    phases: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row.get("bench") == "phase":
                phases.append(row)
    by: dict[tuple[str, int], dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in phases:
        by[(row["target"], row["conc"])][row["round"]] = row
    concs = sorted({c for _, c in by})
    if not concs or not by.get((FLOOR, concs[0])):
        print(f"no {FLOOR} phases in {path}")
        return 1
    low, high = concs[0], concs[-1]
    targets = sorted({t for t, _ in by} - {FLOOR, "direct"})
    print(f"\n==== against the pass-through ({FLOOR}) ====")
    for target in targets:
        rps = _paired(by, target, high, lambda t, f: t["rps"] / f["rps"])
        added = _paired(by, target, low, lambda t, f: t["p50_ms"] - f["p50_ms"])
        print(
            f"{target}: req/s at c={high} = {_pct(rps)} of the pass-through's "
            f"(rounds: {_list(rps, pct=True)}); added p50 at c={low} over the pass-through's = "
            f"{_ms(added)} (rounds: {_list(added)})"
        )
    return 0


def _paired(
    by: dict[tuple[str, int], dict[int, dict[str, Any]]], target: str, conc: int, f: Any
) -> list[float]:
    mine, floor = by.get((target, conc), {}), by.get((FLOOR, conc), {})
    return [f(mine[r], floor[r]) for r in sorted(set(mine) & set(floor)) if floor[r]["rps"]]


def _pct(values: list[float]) -> str:
    return f"{statistics.median(values) * 100:.0f} %" if values else "-"


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):+.3f} ms" if values else "-"


def _list(values: list[float], *, pct: bool = False) -> str:
    return ", ".join(f"{v * 100:.0f} %" if pct else f"{v:+.3f}" for v in values)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
