"""Makes the fresh corpus: python -m tests.phi.fresh.generator (rewrites corpus.jsonl)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.phi.fresh.clinical import BEARING
from tests.phi.fresh.institutional_docs import CLEAN

CORPUS_PATH = Path(__file__).with_name("corpus.jsonl")
CORPUS_SEED = 20261207
SIZE = 300
CLEAN_SHARE = 0.42


def generate(seed: int, size: int = SIZE) -> list[dict[str, object]]:
    rng = random.Random(seed)
    documents = []
    for index in range(size):
        make = rng.choice(CLEAN) if rng.random() < CLEAN_SHARE else rng.choice(BEARING)
        documents.append(make(rng).finish(f"fresh-{index:04d}"))
    return documents


def main() -> None:
    lines = (json.dumps(d, ensure_ascii=False) for d in generate(CORPUS_SEED))
    CORPUS_PATH.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
