"""A document under construction whose spans are exact by construction.

Text is appended piece by piece; a labelled piece records its offsets as it is appended, and
`finish` checks that every span still reads exactly the value that was inserted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TYPES = frozenset(
    {"PERSON", "BIRTHDATE", "DATE", "IPP", "NDA", "NIR", "IBAN", "RPPS", "PHONE", "EMAIL",
     "ADDRESS", "ZIP", "CITY"}
)  # fmt: skip

# A piece is plain text or a (type, value) pair to label.
Piece = str | tuple[str, str]


@dataclass
class Document:
    kind: str
    _chunks: list[str] = field(default_factory=list)
    _spans: list[tuple[int, int, str, str]] = field(default_factory=list)
    _length: int = 0

    def add(self, *pieces: Piece) -> Document:
        """Appends the pieces in order, labelling the (type, value) ones."""
        for piece in pieces:
            if isinstance(piece, str):
                self._append(piece)
                continue
            kind, value = piece
            assert kind in TYPES, kind
            assert value and value == value.strip(), repr(value)
            start = self._length
            self._append(value)
            self._spans.append((start, self._length, kind, value))
        return self

    def line(self, *pieces: Piece) -> Document:
        """Appends the pieces followed by a newline."""
        return self.add(*pieces, "\n")

    def extend(self, other: Document) -> Document:
        """Appends another document's text with its spans shifted to their new place."""
        for start, end, kind, value in other._spans:
            self._spans.append((start + self._length, end + self._length, kind, value))
        for chunk in other._chunks:
            self._append(chunk)
        return self

    def _append(self, text: str) -> None:
        self._chunks.append(text)
        self._length += len(text)

    def finish(self, doc_id: str) -> dict[str, object]:
        """The corpus record; raises if a span does not read what was inserted."""
        text = "".join(self._chunks)
        spans: list[dict[str, object]] = []
        for start, end, kind, value in self._spans:
            assert text[start:end] == value
            spans.append({"start": start, "end": end, "type": kind})
        return {"id": doc_id, "kind": self.kind, "text": text, "spans": spans}
