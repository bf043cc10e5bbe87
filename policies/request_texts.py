"""Every text an OpenAI-style request carries, with the place it came from.

Classification and pseudonymisation must see *all* the text that would leave the hospital, not
only the last user message: system prompts, earlier assistant turns, tool results, tool-call
arguments, ``name`` fields, tool definitions and free-form parameters (``metadata``, ``user``,
``prediction``…). The walk is therefore generic — every string leaf of the body is a text unless
it is structural (``model``, ``role``, ``type``, ids) — with three exceptions that cannot be read
as text: token-id prompts and inputs, and non-text content parts (images, audio, files). Those are
returned as *opaque* references so that the policy can treat "something we could not read" as
strictly as it wants instead of silently ignoring it.

Object keys are texts too (``{"Jeanne DUPONT": …}`` carries a name), except the protocol's own
(see :data:`policies.key_context.PROTOCOL_KEYS`), and so are numbers long enough to be an
identifier (a placeholder replaces them as a string). A key that names an identifier (``"ipp"``,
``"ddn"``, ``"nom"``…) gives the value under it a *hint*: the entity type it is, whatever the
detector makes of it alone. Booleans, ``null`` and short numbers are not texts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from policies.key_context import PROTOCOL_KEYS, PROTOCOL_VALUES, hint_for_key

PathElement = str | int


class Endpoint(StrEnum):
    """The request shapes Hygie reads texts from."""

    CHAT = "chat/completions"
    COMPLETIONS = "completions"
    EMBEDDINGS = "embeddings"

    @classmethod
    def parse(cls, value: str) -> Endpoint:
        """Accept ``"chat/completions"``, ``"/v1/chat/completions"``, ``"chat"`` and the like.

        Raises :class:`UnsupportedEndpoint` for anything else: an endpoint whose texts we do not
        know how to find must not be classified as if it carried none.
        """
        name = value.strip().strip("/")
        if name.startswith("v1/"):
            name = name[3:]
        if name == "chat":
            name = cls.CHAT.value
        try:
            return cls(name)
        except ValueError:
            raise UnsupportedEndpoint(value) from None


class UnsupportedEndpoint(ValueError):
    """The endpoint is not one whose request texts this module can extract."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(f"no text extraction for endpoint {endpoint!r}")
        self.endpoint = endpoint


class TextKind(StrEnum):
    """What a text is, which decides how a placeholder may be written back into it."""

    CONTENT = "content"  # message content and text parts
    PROMPT = "prompt"  # completions prompt / suffix
    INPUT = "input"  # embeddings input
    TOOL_ARGUMENTS = "tool_arguments"  # a JSON document serialised in a string
    NAME = "name"  # ``name`` fields: ``^[A-Za-z0-9_-]+$`` upstream, no brackets allowed
    OTHER = "other"  # any other string parameter (metadata, user, tool definitions…)
    KEY = "key"  # an object key (``path`` leads to its value; writing renames the key)
    NUMBER = "number"  # a number of 6+ digits, read as its decimal text, replaced by a string


# A number with fewer digits identifies nobody (a dose, a count, a year, max_tokens).
_IDENTIFIER_DIGITS = 6
# Deeper JSON is refused at parse time; this bound keeps the recursive walk safe on its own.
MAX_DEPTH = 128


class RequestTooDeep(ValueError):
    """The body nests deeper than :data:`MAX_DEPTH`: refused rather than walked."""


@dataclass(frozen=True, slots=True)
class TextRef:
    """One text of a request and the path that leads to it in the JSON body.

    An *opaque* reference (``opaque_reason`` set, ``text == ""``) marks input that is present but
    cannot be scanned (token ids, images…). ``repr`` never shows the text, which may hold
    identifiers.
    """

    path: tuple[PathElement, ...]
    kind: TextKind
    text: str = ""
    role: str | None = None
    opaque_reason: str | None = None
    hint: str | None = None
    """The entity type the key above this value says it is (``"IPP"`` under ``"ipp"``)."""

    @property
    def scannable(self) -> bool:
        """False for input that is present but cannot be read as text."""
        return self.opaque_reason is None

    def read(self, body: Mapping[str, Any]) -> object:
        """The value currently found at this reference's path in ``body``."""
        node: Any = body
        for element in self.path[:-1]:
            node = node[element]
        last = self.path[-1]
        if self.kind is TextKind.KEY:
            return last if last in node else None
        value = node[last]
        return str(value) if self.kind is TextKind.NUMBER else value

    def write(self, body: dict[str, Any], new_text: str) -> None:
        """Replace the text at this reference's path in ``body`` (mutated in place).

        Raises ``ValueError`` for an opaque reference: there is no text to replace.
        """
        if not self.scannable:
            raise ValueError(f"cannot write text into opaque input at {self.location}")
        node: Any = body
        for element in self.path[:-1]:
            node = node[element]
        last = self.path[-1]
        if self.kind is TextKind.KEY:
            if new_text != last and new_text in node:
                raise ValueError(f"renaming a key would overwrite another at {self.location}")
            # Rebuilt in order: the key keeps its place among its siblings.
            items = [(new_text if key == last else key, value) for key, value in node.items()]
            node.clear()
            node.update(items)
        else:
            node[last] = new_text

    @property
    def location(self) -> str:
        """The path in a readable form (``messages[2].content[0].text``), free of any value."""
        parts: list[str] = []
        for element in self.path:
            if isinstance(element, int):
                parts.append(f"[{element}]")
            else:
                parts.append(f".{element}" if parts else element)
        return "".join(parts)

    def __repr__(self) -> str:
        described = (
            f"opaque: {self.opaque_reason}" if self.opaque_reason else f"{len(self.text)} chars"
        )
        return f"TextRef({self.location}, {self.kind.value}, {described})"


# Keys whose values are protocol vocabulary; rewriting it would break the request.
_STRUCTURAL_KEYS = frozenset({"role", "type"})


def _structural(key: object, value: object) -> bool:
    # Only the protocol's own words under these keys are vocabulary: any other string there
    # (and anything under "id" or "tool_call_id") is scanned like data.
    return key in _STRUCTURAL_KEYS and isinstance(value, str) and value in PROTOCOL_VALUES


_TOP_LEVEL_SKIPPED = frozenset({"model"})
_TEXT_PART_TYPES = frozenset({"text", "refusal", "input_text", "output_text"})


def iter_texts(endpoint: str, body: Mapping[str, Any]) -> list[TextRef]:
    """Every text ``body`` carries for ``endpoint``, in document order.

    Guarantees: every non-empty string leaf of the body that is not protocol vocabulary, every
    key that is not a protocol key and every number of six digits or more appears exactly once;
    token-id prompts/inputs and non-text content parts appear as opaque references; nothing in
    ``body`` is modified. Raises :class:`UnsupportedEndpoint` for an unknown endpoint and
    :class:`RequestTooDeep` for a body nested deeper than :data:`MAX_DEPTH`.
    """
    kind_of_endpoint = Endpoint.parse(endpoint)
    out: list[TextRef] = []
    for key, value in body.items():
        if key in _TOP_LEVEL_SKIPPED:
            continue
        _key(key, (), None, out)
        path: tuple[PathElement, ...] = (key,)
        if kind_of_endpoint is Endpoint.CHAT and key == "messages" and isinstance(value, list):
            for index, message in enumerate(value):
                _message(message, (key, index), out)
        elif kind_of_endpoint is Endpoint.COMPLETIONS and key == "prompt":
            _prompt_or_input(value, path, TextKind.PROMPT, out)
        elif kind_of_endpoint is Endpoint.COMPLETIONS and key == "suffix":
            _walk(value, path, TextKind.PROMPT, None, out)
        elif kind_of_endpoint is Endpoint.EMBEDDINGS and key == "input":
            _prompt_or_input(value, path, TextKind.INPUT, out)
        else:
            _walk(value, path, _kind_for_key(key, TextKind.OTHER), None, out, hint_for_key(key))
    return out


def _key(key: object, path: tuple[PathElement, ...], role: str | None, out: list[TextRef]) -> None:
    if isinstance(key, str) and key and key not in PROTOCOL_KEYS:
        out.append(TextRef((*path, key), TextKind.KEY, key, role))


def _message(message: object, path: tuple[PathElement, ...], out: list[TextRef]) -> None:
    if not isinstance(message, Mapping):
        _walk(message, path, TextKind.CONTENT, None, out)
        return
    role = message.get("role")
    role_name = role if isinstance(role, str) else None
    for key, value in message.items():
        _key(key, path, role_name, out)
        if _structural(key, value):
            continue
        child = (*path, key)
        if key == "content" and isinstance(value, list):
            for index, part in enumerate(value):
                _content_part(part, (*child, index), role_name, out)
        else:
            kind = _kind_for_key(key, TextKind.CONTENT)
            _walk(value, child, kind, role_name, out, hint_for_key(key))


# Where a non-text content part holds its payload (base64 data, a URL): unreadable here.
_PAYLOAD_KEYS = frozenset({"url", "data", "file_data", "image_url", "input_audio"})


def _content_part(
    part: object, path: tuple[PathElement, ...], role: str | None, out: list[TextRef]
) -> None:
    if isinstance(part, Mapping):
        part_type = part.get("type")
        if part_type not in _TEXT_PART_TYPES:
            # Images, audio and files may well show a patient's name; we cannot read them here.
            reason = f"{part_type} content part" if isinstance(part_type, str) else "content part"
            out.append(TextRef(path, TextKind.CONTENT, role=role, opaque_reason=reason))
            # Their other fields (a file name, a detail) are read like any data.
            _walk(_without_payload(part), path, TextKind.OTHER, role, out)
            return
    _walk(part, path, TextKind.CONTENT, role, out)


def _without_payload(part: Mapping[str, Any]) -> dict[str, Any]:
    readable: dict[str, Any] = {}
    for key, value in part.items():
        if key in _PAYLOAD_KEYS and not isinstance(value, Mapping):
            continue
        readable[key] = _without_payload(value) if isinstance(value, Mapping) else value
    return readable


def _prompt_or_input(
    value: object, path: tuple[PathElement, ...], kind: TextKind, out: list[TextRef]
) -> None:
    if _is_token_ids(value):
        out.append(TextRef(path, kind, opaque_reason="token ids"))
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            if _is_token_ids(item):
                out.append(TextRef((*path, index), kind, opaque_reason="token ids"))
            else:
                _walk(item, (*path, index), kind, None, out)
        return
    _walk(value, path, kind, None, out)


def _is_token_ids(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(item, int) and not isinstance(item, bool) for item in value)
    )


def _kind_for_key(key: str, inherited: TextKind) -> TextKind:
    if key == "name":
        return TextKind.NAME
    if key == "arguments":
        return TextKind.TOOL_ARGUMENTS
    return inherited


def _walk(
    value: object,
    path: tuple[PathElement, ...],
    kind: TextKind,
    role: str | None,
    out: list[TextRef],
    hint: str | None = None,
) -> None:
    if isinstance(value, str):
        if value:
            out.append(TextRef(path, kind, value, role, hint=hint))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
        digits = sum(char.isdigit() for char in text)
        if digits >= _IDENTIFIER_DIGITS or (hint is not None and digits >= 4):
            out.append(TextRef(path, TextKind.NUMBER, text, role, hint=hint))
    elif isinstance(value, Mapping):
        if len(path) > MAX_DEPTH:
            raise RequestTooDeep(f"the request nests deeper than {MAX_DEPTH} levels")
        for key, child in value.items():
            if not isinstance(key, str):
                continue
            _key(key, path, role, out)
            if _structural(key, child):
                continue
            _walk(child, (*path, key), _kind_for_key(key, kind), role, out, hint_for_key(key))
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        if len(path) > MAX_DEPTH:
            raise RequestTooDeep(f"the request nests deeper than {MAX_DEPTH} levels")
        for index, child in enumerate(value):
            # A list under "prenoms" holds first names: the hint reaches its items.
            _walk(child, (*path, index), kind, role, out, hint)
