"""Scores the detector against the gold corpus; used by the tests and by the printed report.

Coverage rule: a gold span is *covered* when at least half of its characters lie inside detected
spans of any type (a BIRTHDATE reported as DATE is still masked). A document is *fully covered*
when all its gold spans are. Per-type precision/recall match spans of the same type that overlap
by at least one character.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from policies.phi import PhiDetector
from policies.spans import Span


def gold_spans(document: dict[str, object]) -> list[Span]:
    raw = document["spans"]
    assert isinstance(raw, list)
    return [Span(int(s["start"]), int(s["end"]), str(s["type"])) for s in raw]


def covered(gold: Span, detected: Sequence[Span]) -> bool:
    inside = sum(max(0, min(gold.end, d.end) - max(gold.start, d.start)) for d in detected)
    return 2 * inside >= gold.end - gold.start


@dataclass
class Scores:
    bearing: int = 0
    flagged_bearing: int = 0
    fully_covered: int = 0
    clean: int = 0
    flagged_clean: int = 0
    gold_by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    found_by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    detected_by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    correct_by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    false_flags: list[tuple[str, str, str]] = field(default_factory=list)
    wrong_in_bearing: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def flag_recall(self) -> float:
        return self.flagged_bearing / self.bearing

    @property
    def false_flag_rate(self) -> float:
        return self.flagged_clean / self.clean

    @property
    def full_coverage(self) -> float:
        return self.fully_covered / self.bearing

    def table(self, title: str) -> str:
        lines = [
            title,
            f"  documents: {self.bearing} identifier-bearing, {self.clean} identifier-free",
            f"  document flag recall {self.flag_recall:.2%}  false flags {self.false_flag_rate:.2%}"
            f"  fully covered {self.full_coverage:.2%}",
            f"  {'type':<10}{'gold':>6}{'found':>7}{'recall':>9}{'detected':>10}{'precision':>11}",
        ]
        for kind in sorted(set(self.gold_by_type) | set(self.detected_by_type)):
            gold, found = self.gold_by_type[kind], self.found_by_type[kind]
            detected, correct = self.detected_by_type[kind], self.correct_by_type[kind]
            recall = f"{found / gold:.1%}" if gold else "-"
            precision = f"{correct / detected:.1%}" if detected else "-"
            lines.append(f"  {kind:<10}{gold:>6}{found:>7}{recall:>9}{detected:>10}{precision:>11}")
        return "\n".join(lines)


def evaluate(documents: Iterable[dict[str, object]], detector: PhiDetector) -> Scores:
    scores = Scores()
    for document in documents:
        text = str(document["text"])
        gold = gold_spans(document)
        detected = detector.detect(text)
        doc_id = str(document["id"])
        if gold:
            scores.bearing += 1
            scores.flagged_bearing += bool(detected)
            uncovered = [g for g in gold if not covered(g, detected)]
            scores.fully_covered += not uncovered
            scores.misses.extend((doc_id, g.type, text[g.start : g.end]) for g in uncovered)
        else:
            scores.clean += 1
            scores.flagged_clean += bool(detected)
            scores.false_flags.extend((doc_id, d.type, text[d.start : d.end]) for d in detected)
        for g in gold:
            scores.gold_by_type[g.type] += 1
            scores.found_by_type[g.type] += any(
                d.type == g.type and d.start < g.end and g.start < d.end for d in detected
            )
        for d in detected:
            scores.detected_by_type[d.type] += 1
            correct = any(d.type == g.type and d.start < g.end and g.start < d.end for g in gold)
            scores.correct_by_type[d.type] += correct
            if gold and not correct:
                scores.wrong_in_bearing.append((doc_id, d.type, text[d.start : d.end]))
    return scores
