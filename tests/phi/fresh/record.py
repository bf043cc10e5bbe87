"""A labelled text under construction: identifiers go in as (type, value) pairs."""

from __future__ import annotations

from dataclasses import dataclass, field

Piece = str | tuple[str, str]


@dataclass
class Record:
    kind: str
    text: str = ""
    spans: list[dict[str, int | str]] = field(default_factory=list)

    def put(self, *pieces: Piece) -> Record:
        for piece in pieces:
            if isinstance(piece, str):
                self.text += piece
                continue
            kind, value = piece
            assert value == value.strip() and value, value
            self.spans.append({"start": len(self.text), "end": len(self.text) + len(value),
                               "type": kind})  # fmt: skip
            self.text += value
        return self

    def line(self, *pieces: Piece) -> Record:
        return self.put(*pieces, "\n")

    def finish(self, doc_id: str) -> dict[str, object]:
        return {"id": doc_id, "kind": self.kind, "text": self.text, "spans": self.spans}
