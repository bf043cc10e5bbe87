"""Throughput of the PHI detector on one core (a script, not a test).

    python tests/benchmarks/phi_bench.py [--repeats 15]

Prints the median time to scan a 16,000-character clinician prompt and the median throughput on
the whole committed corpus (MB of UTF-8 per second). Targets: <= 2 ms and >= 10 MB/s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from policies.phi import PhiDetector  # noqa: E402

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


def _median_seconds(detector: PhiDetector, texts: list[str], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        for text in texts:
            detector.detect(text)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    detector = PhiDetector()
    texts = _texts()
    prompt = _prompt(texts)
    detector.detect(prompt)  # warm the regex caches and the lexicons

    prompt_seconds = _median_seconds(detector, [prompt], args.repeats * 10)
    spans = len(detector.detect(prompt))
    print(f"16,000-character prompt: {prompt_seconds * 1e3:.2f} ms median ({spans} spans)")

    corpus_seconds = _median_seconds(detector, texts, args.repeats)
    megabytes = sum(len(text.encode("utf-8")) for text in texts) / 1e6
    print(
        f"corpus: {len(texts)} documents, {megabytes:.2f} MB in {corpus_seconds * 1e3:.1f} ms "
        f"median -> {megabytes / corpus_seconds:.1f} MB/s"
    )


if __name__ == "__main__":
    main()
