"""Prints the detector's aggregate scores on the held-out corpus (never the individual misses).

python -m tests.phi.heldout
"""

from __future__ import annotations

import json

from policies.phi import PhiDetector
from tests.phi.evaluation import evaluate
from tests.phi.heldout.generator import CORPUS_PATH


def main() -> None:
    lines = CORPUS_PATH.read_text(encoding="utf-8").splitlines()
    scores = evaluate([json.loads(line) for line in lines], PhiDetector())
    print(scores.table(f"PHI detector on the held-out corpus ({CORPUS_PATH.name})"))


if __name__ == "__main__":
    main()
