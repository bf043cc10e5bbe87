"""Reversible pseudonymisation: identifiers out of the request, back into the response.

Each detected identifier is replaced by a placeholder such as ``[PERSON_1]`` or ``[NIR_2]``:
upper-case letters, digits, one underscore and brackets, a form language models copy back
verbatim and that needs no escaping in JSON. The same value (compared without case or extra
spaces) gets the same placeholder everywhere in the request, so the model can still tell that two
mentions are the same patient.

The table from placeholders to originals exists only inside a :class:`Pseudonyms` object, for
the lifetime of one request: it is never logged (``repr`` redacts it) and cannot be pickled, so
it cannot be stored or sent anywhere by accident.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NoReturn

from policies.classify import Classification, ScannedText
from policies.key_context import union
from policies.mentions import Mentions, canonical
from policies.request_texts import TextKind
from policies.spans import Span

# One bracketed placeholder; brackets never occur inside, so matches cannot overlap.
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9]*_[1-9][0-9]*\]")
# A placeholder-shaped token already present in the request, bracketed or not.
_TAKEN = re.compile(r"[A-Z][A-Z0-9]*_[1-9][0-9]*")
# A JSON number, as an identifier under an "ipp" key may be written.
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# One escape sequence inside a JSON string.
_JSON_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)", re.DOTALL)


class PseudonymisationError(ValueError):
    """The request cannot be pseudonymised safely; it must not be forwarded."""


class Pseudonyms:
    """The placeholders of one request and the originals they stand for. Memory only."""

    __slots__ = ("_originals", "_prefixes")

    def __init__(self, originals: Mapping[str, str]) -> None:
        for placeholder in originals:
            if _PLACEHOLDER.fullmatch(placeholder) is None:
                raise ValueError(f"not a placeholder: {placeholder!r}")
        self._originals = dict(originals)
        # Every proper prefix of a placeholder: what a stream must hold back at a chunk's end.
        self._prefixes = frozenset(p[:size] for p in originals for size in range(1, len(p)))

    def restore(self, text: str, *, json_escape: bool = False) -> str:
        """``text`` with every known placeholder replaced by its original.

        Unknown placeholder-shaped tokens are left as they are. With ``json_escape`` the
        originals are escaped for insertion inside a JSON string (tool-call arguments).
        """
        if not self._originals:
            return text

        def original(match: re.Match[str]) -> str:
            value = self._originals.get(match.group(0))
            if value is None:
                return match.group(0)
            return json.dumps(value, ensure_ascii=False)[1:-1] if json_escape else value

        return _PLACEHOLDER.sub(original, text)

    def stream_restorer(self, *, json_escape: bool = False) -> StreamRestorer:
        """A restorer for one stream of deltas (one per choice, one per tool call)."""
        return StreamRestorer(self, json_escape=json_escape)

    def holds_back(self, tail: str) -> bool:
        """True when ``tail`` may be the beginning of a placeholder still to be completed."""
        return tail in self._prefixes

    @property
    def entity_counts(self) -> dict[str, int]:
        """Distinct values replaced, per entity type (no value, no placeholder)."""
        return dict(Counter(p[1:].rsplit("_", 1)[0] for p in self._originals))

    def __len__(self) -> int:
        return len(self._originals)

    def __repr__(self) -> str:
        return f"Pseudonyms({len(self._originals)} placeholders, originals redacted)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("pseudonym tables live in memory only and cannot be pickled")


class StreamRestorer:
    """Restores placeholders in a stream whose chunks may split a placeholder anywhere.

    Guarantee: the concatenation of everything :meth:`feed` and :meth:`flush` return equals
    ``pseudonyms.restore(concatenation of the deltas)``, whatever the chunking; at most one
    placeholder's length is held back at any time.
    """

    __slots__ = ("_buffer", "_json_escape", "_pseudonyms")

    def __init__(self, pseudonyms: Pseudonyms, *, json_escape: bool = False) -> None:
        self._pseudonyms = pseudonyms
        self._json_escape = json_escape
        self._buffer = ""

    def feed(self, delta: str) -> str:
        """The text that is safe to emit now, restored; a possible partial placeholder waits."""
        buffer = self._buffer + delta
        # A placeholder holds a single "[", at its start: only the last "[" can open one that
        # is still incomplete.
        start = buffer.rfind("[")
        cut = start if start != -1 and self._pseudonyms.holds_back(buffer[start:]) else len(buffer)
        self._buffer = buffer[cut:]
        return self._pseudonyms.restore(buffer[:cut], json_escape=self._json_escape)

    def flush(self) -> str:
        """Whatever is still held back, restored; call once when the stream ends."""
        rest, self._buffer = self._buffer, ""
        return self._pseudonyms.restore(rest, json_escape=self._json_escape)

    @property
    def held_back_chars(self) -> int:
        """How many characters wait for the next delta (never more than a placeholder)."""
        return len(self._buffer)

    def __repr__(self) -> str:
        return f"StreamRestorer({len(self._buffer)} chars held back)"


@dataclass(frozen=True, slots=True)
class PseudonymisedRequest:
    """The request body to forward, and what is needed to restore the response."""

    body: dict[str, Any] = field(repr=False)
    pseudonyms: Pseudonyms
    replaced: Mapping[str, int]
    """Occurrences replaced per entity type."""


def pseudonymise(body: Mapping[str, Any], classification: Classification) -> PseudonymisedRequest:
    """Replace every identifier found by ``classification``, in every form, in a copy of ``body``.

    ``classification`` must come from :func:`policies.classify.classify` on this very body.
    Guarantees: ``body`` is left untouched; every detected span is replaced, and so is every
    other mention of a detected value anywhere in the body, keys included (see
    :mod:`policies.mentions`: other case, spacing or typography, an id without its keyword);
    a ``name`` field or a number holding one is replaced whole; the same value always gets the
    same placeholder; no placeholder collides with a placeholder-shaped token already in the
    request; tool-call arguments that were valid JSON stay valid JSON.
    Raises :class:`PseudonymisationError` when the request has unscannable input, when the body
    no longer matches the classification, or when a rewrite would break a JSON argument.
    """
    if classification.unscannable_count:
        raise PseudonymisationError("the request has input that cannot be scanned or replaced")
    result = copy.deepcopy(dict(body))
    table = _PlaceholderTable(_taken_tokens(classification.scanned))
    mentions = Mentions(_detected_values(classification.scanned))
    replaced: Counter[str] = Counter()
    # Keys are renamed last, the deepest first: a rename must not break a path still to write.
    order = sorted(
        classification.scanned,
        key=lambda item: (item.ref.kind is TextKind.KEY, -len(item.ref.path)),
    )
    for scanned in order:
        ref = scanned.ref
        spans = union([*scanned.spans, *mentions.find(ref.text)]) if mentions else scanned.spans
        if not spans:
            continue
        if ref.read(result) != ref.text:
            raise PseudonymisationError(
                f"the body changed since it was classified ({ref.location})"
            )
        if ref.kind is TextKind.TOOL_ARGUMENTS:
            new_text = _rewrite_json_text(ref.text, tuple(spans), table)
        elif ref.kind in _REPLACED_WHOLE:
            # Half a name or half a number would still identify: the whole value goes.
            first = spans[0]
            label = table.label(first.type, ref.text[first.start : first.end])
            new_text = label if ref.kind is TextKind.NAME else f"[{label}]"
        elif ref.text.lstrip()[:1] in ("{", "[") and _is_json(ref.text):
            # A JSON tool result: kept JSON where it can be.
            new_text = _rewrite_json_text(ref.text, tuple(spans), table, strict=False)
        else:
            new_text = _rewrite(ref.text, union(spans), table, bare=False)
        for span in spans:
            replaced[span.type] += 1
        try:
            ref.write(result, new_text)
        except ValueError as error:
            raise PseudonymisationError(str(error)) from None
    return PseudonymisedRequest(
        body=result,
        pseudonyms=Pseudonyms(table.originals),
        replaced=MappingProxyType(dict(sorted(replaced.items()))),
    )


# ``name`` fields only accept [A-Za-z0-9_-] upstream; a number becomes one placeholder string.
_REPLACED_WHOLE = frozenset({TextKind.NAME, TextKind.NUMBER})


class _PlaceholderTable:
    """Allocates ``TYPE_n`` labels, one per distinct value, skipping labels already in use."""

    __slots__ = ("_by_value", "_next", "_taken", "originals")

    def __init__(self, taken: set[str]) -> None:
        self._taken = taken
        self._by_value: dict[tuple[str, str], str] = {}
        self._next: Counter[str] = Counter()
        self.originals: dict[str, str] = {}

    def label(self, entity_type: str, value: str) -> str:
        kind = _safe_type(entity_type)
        key = (kind, canonical(entity_type, value))
        label = self._by_value.get(key)
        if label is None:
            while True:
                self._next[kind] += 1
                label = f"{kind}_{self._next[kind]}"
                if label not in self._taken:
                    break
            self._by_value[key] = label
            self.originals[f"[{label}]"] = value
        return label


def _safe_type(entity_type: str) -> str:
    cleaned = re.sub(r"[^A-Z0-9]", "", entity_type.upper())
    return cleaned if cleaned[:1].isalpha() else f"ID{cleaned}"


def _taken_tokens(scanned: Iterable[ScannedText]) -> set[str]:
    taken: set[str] = set()
    for item in scanned:
        taken.update(_TAKEN.findall(item.ref.text))
    return taken


def _rewrite(
    text: str,
    spans: list[Span],
    table: _PlaceholderTable,
    *,
    bare: bool,
    decode: bool = False,
    quote_numbers: bool = False,
) -> str:
    pieces: list[str] = []
    position = 0
    for span in spans:
        raw = text[span.start : span.end]
        label = table.label(span.type, _json_decoded(raw) if decode else raw)
        pieces.append(text[position : span.start])
        # ``name`` fields only accept [A-Za-z0-9_-] upstream: no brackets there.
        placeholder = label if bare else f"[{label}]"
        if quote_numbers and _NUMBER.fullmatch(raw) and text[span.start - 1 : span.start] != '"':
            placeholder = f'"{placeholder}"'  # a bare JSON number becomes a JSON string
        pieces.append(placeholder)
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)


def _rewrite_json_text(
    text: str, spans: tuple[Span, ...], table: _PlaceholderTable, *, strict: bool = True
) -> str:
    """Rewrite tool-call arguments (or a tool result), a JSON document serialised in a string.

    Span ends are widened so as never to cut an escape sequence (``\\u00e9``, ``\\"``), values are
    decoded before being compared and restored, and a document that was valid JSON must still be
    (``strict``; otherwise, when it cannot stay JSON, it is rewritten like plain text).
    """
    widened = union(_widened(text, spans))
    new_text = _rewrite(text, widened, table, bare=False, decode=True)
    if _is_json(text) and not _is_json(new_text):
        # ``{"ipp": 12345678}``: the number's placeholder must be a string to stay JSON.
        new_text = _rewrite(text, widened, table, bare=False, decode=True, quote_numbers=True)
        if not _is_json(new_text):
            if not strict:
                return _rewrite(text, union(spans), table, bare=False)
            raise PseudonymisationError("replacing identifiers would break tool-call arguments")
    return new_text


def _widened(text: str, spans: Iterable[Span]) -> list[Span]:
    """``spans`` of a JSON text widened so as never to cut an escape sequence."""
    escapes = [(m.start(), m.end()) for m in _JSON_ESCAPE.finditer(text)]
    if not escapes:
        return list(spans)
    widened = []
    for span in spans:
        start, end = span.start, span.end
        for low, high in escapes:
            if low < start < high:
                start = low
            if low < end < high:
                end = high
        widened.append(Span(start, end, span.type))
    return widened


def _detected_values(scanned: Iterable[ScannedText]) -> Iterator[tuple[str, str]]:
    """(type, value) of every detected span, JSON escapes decoded."""
    for item in scanned:
        text = item.ref.text
        if item.ref.kind is TextKind.TOOL_ARGUMENTS or "\\" in text:
            for span in _widened(text, item.spans):
                yield span.type, _json_decoded(text[span.start : span.end])
        else:
            for span in item.spans:
                yield span.type, text[span.start : span.end]


def _json_decoded(raw: str) -> str:
    try:
        decoded = json.loads(f'"{raw}"')
    except ValueError:
        return raw
    return decoded if isinstance(decoded, str) else raw


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
