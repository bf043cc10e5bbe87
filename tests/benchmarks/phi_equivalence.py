"""Whether a change to the PHI detector left its output unchanged (a script, not a test).

    python tests/benchmarks/phi_equivalence.py --save /tmp/before.json [--tree DIR]
    python tests/benchmarks/phi_equivalence.py --check /tmp/before.json [--tree DIR]

Runs a detector over the development corpus, the held-out corpus and a few thousand hostile
texts derived from both (case changes, odd spaces and invisible characters, lookalike letters,
non-ASCII digits, lone surrogates, glued documents, huge inputs), then saves its spans or
compares them, text by text, with a saved run. Speed work must leave every span as it was.
The held-out texts are read as opaque data: nothing of them is printed, only counts and the
indexes of texts whose spans differ.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPORA = (
    ROOT / "tests" / "phi" / "corpus.jsonl",
    ROOT / "tests" / "phi" / "heldout" / "corpus.jsonl",
)
# Characters that change how the text is read: odd spaces, invisible ones, lookalike letters,
# digits beyond ASCII, a letter whose lower case is longer ("İ"), a lone surrogate.
_ODD = (
    "\u00a0", "\u202f", "\u2009", "\u200b", "\u00ad", "\ufeff", "\u0420", "\u0430", "\u0399",
    "\u0661", "\uff11", "\u0966", "\u0130", "\u017f", "\u212a", "\ud800", "\n", "\t", ";", "@",
    "é", "È", "œ", "ß", "'", "-", "/", "(", " ", "0", "9", ".", ",", ":",
)  # fmt: skip


def _documents() -> list[str]:
    texts: list[str] = []
    for path in CORPORA:
        texts.extend(
            json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()
        )
    return texts


def _hostile(texts: list[str], seed: int = 15) -> Iterator[str]:
    rng = random.Random(seed)
    for text in texts:
        yield text.lower()
        yield text.upper()
    for _ in range(3000):
        text = rng.choice(texts)
        chars = list(text)
        for _ in range(rng.randint(1, 40)):
            at = rng.randrange(len(chars) + 1)
            chars.insert(at, rng.choice(_ODD))
        yield "".join(chars)
    for _ in range(300):
        text = rng.choice(texts)
        lo = rng.randrange(len(text))
        yield text[lo : lo + rng.randint(1, 400)]
    for _ in range(100):
        yield "".join(rng.choice(texts) for _ in range(rng.randint(2, 8)))
    yield "".join(texts[:200])
    yield "0" * 100_000
    yield "06 12 34 56 78 " * 5000
    yield "Dr " * 20_000
    yield "\ud800" + texts[0]
    yield ""


def _corpus_texts() -> list[str]:
    texts = _documents()
    return texts + list(_hostile(texts))


def _run(tree: Path) -> list[Any]:
    sys.path.insert(0, str(tree.resolve()))
    # Imported here: the checkout is chosen at run time.
    from policies.phi import PhiDetector

    detector = PhiDetector()
    return [
        [[span.start, span.end, span.type] for span in detector.detect(text)]
        for text in _corpus_texts()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", type=Path)
    action.add_argument("--check", type=Path)
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose detector runs")
    args = parser.parse_args()
    spans = _run(args.tree)
    digest = hashlib.sha256(json.dumps(spans).encode()).hexdigest()[:16]
    count = sum(map(len, spans))
    if args.save is not None:
        args.save.write_text(json.dumps(spans), encoding="utf-8")
        print(f"saved {len(spans)} texts, {count} spans, digest {digest}")
        return
    saved = json.loads(args.check.read_text(encoding="utf-8"))
    differ = [
        index for index, (old, new) in enumerate(zip(saved, spans, strict=True)) if old != new
    ]
    print(f"{len(spans)} texts, {count} spans, digest {digest}: {len(differ)} differ")
    if differ:
        print(f"first differing text indexes: {differ[:20]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
