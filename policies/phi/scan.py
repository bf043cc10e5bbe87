"""The ``hygie scan`` contract: JSON lines in, detected spans out, one line per document."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from policies.spans import Span

from .detector import PhiDetector


def summarise(spans: Sequence[Span]) -> dict[str, int]:
    """Number of spans per type, types in alphabetical order."""
    counts = Counter(span.type for span in spans)
    return dict(sorted(counts.items()))


def _error(doc_id: object, message: str) -> str:
    return json.dumps({"id": doc_id, "error": message}, ensure_ascii=False)


def scan_jsonl(lines: Iterable[str], detector: PhiDetector) -> Iterator[str]:
    """One output line per non-blank input line, in order.

    Input ``{"id": ..., "text": "..."}`` gives ``{"id": ..., "spans": [{"start", "end", "type"}]}``
    with offsets into the decoded Python ``str`` (end exclusive). A line that is not a JSON object
    with a string ``text`` gives ``{"id": ..., "error": "..."}`` (``id`` null when unknown) and the
    scan goes on. Output lines carry no trailing newline.
    """
    for line in lines:
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError as error:
            yield _error(None, f"invalid JSON: {error.msg}")
            continue
        if not isinstance(document, dict):
            yield _error(None, "expected a JSON object")
            continue
        doc_id = document.get("id")
        text = document.get("text")
        if not isinstance(text, str):
            yield _error(doc_id, "missing or non-string 'text'")
            continue
        spans = [
            {"start": span.start, "end": span.end, "type": span.type}
            for span in detector.detect(text)
        ]
        yield json.dumps({"id": doc_id, "spans": spans}, ensure_ascii=False)
