"""Throughput of the PHI detector on one core (a script, not a test).

    python tests/benchmarks/phi_bench.py [--repeats 15] [--tree DIR]
    python tests/benchmarks/phi_bench.py --against DIR [--rounds 3] [--repeats 5]

Prints the median time to scan a 16,000-character clinician prompt and the median throughput on
the whole committed corpus (MB of UTF-8 per second). Targets: <= 2 ms and >= 10 MB/s. Then the
time per character of a 1,000,000-character record, which shows whether any step grows faster
than the text.
Wall-clock and CPU (process) time are both shown: on a shared machine the CPU time is the
steadier of the two, since it leaves out the time other processes held the core.
``--tree DIR`` times the detector of another checkout (``git worktree add DIR <commit>``) on
this checkout's corpus, so that an old and a new detector, run alternately, read the same text.
``--against DIR`` does the alternation itself: each round runs DIR's detector, then this
checkout's, each in its own process, and the medians of the CPU times are compared per
character (the speed rule: the new detector no more than 20 % slower than the old).
``tests/benchmarks/phi_equivalence.py`` checks that a speed change left the spans unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "phi" / "corpus.jsonl"


def _texts() -> list[str]:
    return [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]


def _prompt(texts: list[str], size: int = 16_000) -> str:
    """A long pasted record: corpus documents (with and without identifiers) cut at ``size``."""
    parts: list[str] = []
    length = 0
    for text in texts:
        parts.append(text)
        length += len(text) + 2
        if length >= size:
            break
    return "\n\n".join(parts)[:size]


def _median_seconds(detector: Any, texts: list[str], repeats: int) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of ``repeats`` scans of ``texts``."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for text in texts:
            detector.detect(text)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose detector runs")
    parser.add_argument("--against", type=Path, help="old checkout to alternate with this one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print CPU seconds as JSON only")
    args = parser.parse_args()
    if args.against is not None:
        _alternate(args.against, args.rounds, args.repeats)
        return
    sys.path.insert(0, str(args.tree.resolve()))
    # Imported here: the checkout is chosen at run time.
    from policies.phi import PhiDetector

    detector = PhiDetector()
    texts = _texts()
    prompt = _prompt(texts)
    detector.detect(prompt)  # warm the regex caches and the lexicons

    prompt_wall, prompt_cpu = _median_seconds(detector, [prompt], args.repeats * 10)
    # A long pasted record: the time per character must not grow with the length.
    record = _prompt(texts * (1_000_000 // sum(map(len, texts)) + 1), 1_000_000)
    if args.json:
        _, corpus_cpu = _median_seconds(detector, texts, args.repeats)
        _, record_cpu = _median_seconds(detector, [record], 3)
        cpu = {"prompt": prompt_cpu, "corpus": corpus_cpu, "record": record_cpu}
        print(json.dumps(cpu))
        return
    spans = len(detector.detect(prompt))
    print(
        f"16,000-character prompt: {prompt_wall * 1e3:.2f} ms median wall, "
        f"{prompt_cpu * 1e3:.2f} ms median CPU ({spans} spans)"
    )

    corpus_wall, corpus_cpu = _median_seconds(detector, texts, args.repeats)
    megabytes = sum(len(text.encode("utf-8")) for text in texts) / 1e6
    print(
        f"corpus: {len(texts)} documents, {megabytes:.2f} MB in {corpus_wall * 1e3:.1f} ms "
        f"median wall -> {megabytes / corpus_wall:.1f} MB/s; "
        f"{corpus_cpu * 1e3:.1f} ms median CPU -> {megabytes / corpus_cpu:.1f} MB/s"
    )
    _, record_cpu = _median_seconds(detector, [record], 3)
    print(
        f"1,000,000-character record: {record_cpu * 1e3:.0f} ms median CPU "
        f"({record_cpu / len(record) * 1e6:.2f} µs per character; the 16,000-character prompt: "
        f"{prompt_cpu / len(prompt) * 1e6:.2f})"
    )
    print(f"load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")


def _alternate(old: Path, rounds: int, repeats: int) -> None:
    """Runs ``old``'s detector and this checkout's in turn, ``rounds`` times, and prints the
    median CPU time of each on each text and the new one's relative to the old one."""
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for _ in range(rounds):
        for name, tree in (("old", old), ("new", ROOT)):
            command = [sys.executable, __file__, "--tree", str(tree), "--json"]
            output = subprocess.run(
                [*command, "--repeats", str(repeats)], capture_output=True, check=True, text=True
            ).stdout
            runs[name].append(json.loads(output))
    for text in ("prompt", "corpus", "record"):
        old_runs = [run[text] * 1e3 for run in runs["old"]]
        new_runs = [run[text] * 1e3 for run in runs["new"]]
        ratio = statistics.median(new_runs) / statistics.median(old_runs)
        print(
            f"{text}: old {' / '.join(f'{ms:.2f}' for ms in old_runs)} ms, "
            f"new {' / '.join(f'{ms:.2f}' for ms in new_runs)} ms CPU; "
            f"medians new/old {ratio:.2f} (same text, so the same ratio per character)"
        )
    print(f"load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
