"""Builds the held-out corpus: ~500 documents, about 40 % identifier-free, from one seed.

python -m tests.phi.heldout.generator   rewrites corpus.jsonl from CORPUS_SEED.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from random import Random

from tests.phi.heldout import clean, letters, short_texts
from tests.phi.heldout.document import Document

CORPUS_PATH = Path(__file__).with_name("corpus.jsonl")
CORPUS_SEED = 20261207

# (shape, number of documents): 305 identifier-bearing, 200 identifier-free.
SHAPES: tuple[tuple[Callable[[Random], Document], int], ...] = (
    (letters.discharge_letter, 35),
    (letters.consultation_note, 30),
    (letters.operative_report, 15),
    (letters.prescription, 20),
    (letters.admission_form, 15),
    (letters.email, 20),
    (letters.english_note, 25),
    (short_texts.prompt, 45),
    (short_texts.nursing_note, 30),
    (short_texts.table, 30),
    (short_texts.bare_ids, 20),
    (short_texts.social_note, 20),
    (clean.protocol, 40),
    (clean.pharmacy, 30),
    (clean.lab_result, 25),
    (clean.guideline_summary, 20),
    (clean.memo, 20),
    (clean.clinical_question, 30),
    (clean.anonymous_case, 20),
    (clean.coding, 15),
)


def generate(seed: int = CORPUS_SEED) -> list[dict[str, object]]:
    """The corpus for a seed; each document has its own random stream, so adding a shape
    does not change the documents of the others."""
    order = [(shape, n) for shape, count in SHAPES for n in range(count)]
    Random(seed).shuffle(order)
    documents = []
    for index, (shape, n) in enumerate(order):
        rng = Random(f"{seed}:{shape.__name__}:{n}")
        documents.append(shape(rng).finish(f"h{index:04d}"))
    return documents


def write(seed: int = CORPUS_SEED) -> None:
    lines = (json.dumps(d, ensure_ascii=False) for d in generate(seed))
    CORPUS_PATH.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


if __name__ == "__main__":
    write()
