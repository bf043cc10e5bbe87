"""Prints the detector's scores on the committed corpus and on a held-out seed.

python -m tests.phi.report [--misses]
"""

from __future__ import annotations

import argparse
import json

from policies.phi import PhiDetector
from tests.phi.evaluation import evaluate
from tests.phi.make_corpus import CORPUS_PATH, HELD_OUT_SEED, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", action="store_true", help="list missed and false spans")
    args = parser.parse_args()
    detector = PhiDetector()
    committed = [json.loads(line) for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines()]
    for title, documents in (
        (f"committed corpus ({CORPUS_PATH.name})", committed),
        (f"held-out seed {HELD_OUT_SEED}", generate(HELD_OUT_SEED)),
    ):
        scores = evaluate(documents, detector)
        print(scores.table(title))
        if args.misses:
            for miss in scores.misses:
                print("    MISS", miss)
            for false in scores.false_flags:
                print("    FALSE", false)
            for wrong in scores.wrong_in_bearing:
                print("    WRONG", wrong)


if __name__ == "__main__":
    main()
