"""Builds the held-out corpus: ~520 documents, about 40 % identifier-free, from one seed.

python -m tests.phi.heldout.generator   rewrites corpus.jsonl from CORPUS_SEED.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from random import Random

from tests.phi.heldout import clean, institutional, letters, records, short_texts
from tests.phi.heldout.document import Document

CORPUS_PATH = Path(__file__).with_name("corpus.jsonl")
CORPUS_SEED = 20261207

# (shape, number of documents): 324 identifier-bearing, 220 identifier-free.
SHAPES: tuple[tuple[Callable[[Random], Document], int], ...] = (
    (letters.discharge_letter, 25),
    (letters.consultation_note, 25),
    (letters.operative_report, 12),
    (letters.prescription, 18),
    (letters.admission_form, 12),
    (letters.email, 16),
    (letters.english_note, 18),
    (records.liaison_letter, 18),
    (records.long_record, 8),
    (records.english_prompt, 12),
    (records.email_prompt, 12),
    (records.signed_note, 14),
    (records.handover, 12),
    (short_texts.prompt, 40),
    (short_texts.nursing_note, 24),
    (short_texts.table, 24),
    (short_texts.bare_ids, 18),
    (short_texts.social_note, 16),
    (clean.protocol, 30),
    (clean.pharmacy, 22),
    (clean.lab_result, 20),
    (clean.guideline_summary, 16),
    (clean.memo, 16),
    (clean.clinical_question, 26),
    (clean.anonymous_case, 20),
    (clean.coding, 10),
    (clean.anonymous_handover, 10),
    (institutional.patient_leaflet, 16),
    (institutional.on_call_rota, 12),
    (institutional.purchase_order, 10),
    (institutional.english_policy, 12),
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
