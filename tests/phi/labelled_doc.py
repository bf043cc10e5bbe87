"""A labelled document under construction: every identifier goes through :meth:`Doc.phi`."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tests.phi import fakes


@dataclass
class Doc:
    """A document under construction: its text so far and the gold spans inside it."""

    kind: str
    parts: list[str] = field(default_factory=list)
    spans: list[dict[str, int | str]] = field(default_factory=list)
    length: int = 0

    def add(self, text: str) -> Doc:
        self.parts.append(text)
        self.length += len(text)
        return self

    def phi(self, text: str, kind: str) -> Doc:
        self.spans.append({"start": self.length, "end": self.length + len(text), "type": kind})
        return self.add(text)

    def person(
        self, rng: random.Random, *, female: bool | None = None, english: bool = False
    ) -> Doc:
        """A patient's name in one of the usual shapes; the title is not part of the span."""
        is_female = rng.random() < 0.5 if female is None else female
        first, last = fakes.first_name(rng), fakes.surname(rng)
        titles = (
            (["Mrs", "Ms", "Miss"] if is_female else ["Mr", "Mr."])
            if english
            else (fakes.TITLES_F if is_female else fakes.TITLES_M)
        )
        style = rng.random()
        if style < 0.35:
            self.add(rng.choice(titles) + " ").phi(f"{last.upper()} {first}", "PERSON")
        elif style < 0.55:
            self.add(rng.choice(titles) + " ").phi(f"{first} {last}", "PERSON")
        elif style < 0.7:
            self.add(rng.choice(titles) + " ").phi(
                last if rng.random() < 0.5 else last.upper(), "PERSON"
            )
        elif style < 0.85:
            self.phi(f"{first} {last.upper()}", "PERSON")
        elif style < 0.95:
            self.phi(f"{last.upper()} {first}", "PERSON")
        else:
            self.phi(f"{first} {last}", "PERSON")
        return self

    def doctor(self, rng: random.Random) -> Doc:
        name = rng.choice([f"{fakes.first_name(rng)} {fakes.surname(rng)}", fakes.surname(rng),
                           f"{fakes.first_name(rng)} {fakes.surname(rng).upper()}"])  # fmt: skip
        return self.add(rng.choice(fakes.DOCTOR_TITLES) + " ").phi(name, "PERSON")

    def record(self, doc_id: str) -> dict[str, object]:
        return {"id": doc_id, "kind": self.kind, "text": "".join(self.parts), "spans": self.spans}
