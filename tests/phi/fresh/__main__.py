"""Scores the detector on the fresh corpus: python -m tests.phi.fresh [--misses]."""

from __future__ import annotations

import json
import sys

from policies.phi import PhiDetector
from tests.phi.evaluation import evaluate
from tests.phi.fresh.generator import CORPUS_PATH

documents = [json.loads(line) for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines()]
scores = evaluate(documents, PhiDetector())
print(scores.table(f"fresh corpus ({CORPUS_PATH})"))
if "--misses" in sys.argv:
    for label, rows in (("MISS", scores.misses), ("FALSE", scores.false_flags),
                        ("WRONG", scores.wrong_in_bearing)):  # fmt: skip
        for row in rows:
            print("   ", label, row)
