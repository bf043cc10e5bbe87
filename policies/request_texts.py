"""Every text an OpenAI-style request carries, with the place it came from.

Classification and pseudonymisation must see *all* the text that would leave the hospital, not
only the last user message: system prompts, earlier assistant turns, tool results, tool-call
arguments, ``name`` fields, tool definitions and free-form parameters (``metadata``, ``user``,
``prediction``…). The walk is therefore generic — every string leaf of the body is a text unless
it is structural (``model``, ``role``, ``type``, ids) — with three exceptions that cannot be read
as text: token-id prompts and inputs, and non-text content parts (images, audio, files). Those are
returned as *opaque* references so that the policy can treat "something we could not read" as
strictly as it wants instead of silently ignoring it.

Numbers, booleans and ``null`` are not texts (a placeholder could not be written back into them);
object keys are not texts either (they are names chosen by the client's code, not data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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

    @property
    def scannable(self) -> bool:
        """False for input that is present but cannot be read as text."""
        return self.opaque_reason is None

    def read(self, body: Mapping[str, Any]) -> object:
        """The value currently found at this reference's path in ``body``."""
        node: Any = body
        for element in self.path:
            node = node[element]
        return node

    def write(self, body: dict[str, Any], new_text: str) -> None:
        """Replace the text at this reference's path in ``body`` (mutated in place).

        Raises ``ValueError`` for an opaque reference: there is no text to replace.
        """
        if not self.scannable:
            raise ValueError(f"cannot write text into opaque input at {self.location}")
        node: Any = body
        for element in self.path[:-1]:
            node = node[element]
        node[self.path[-1]] = new_text

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


# Keys whose values are protocol vocabulary or opaque ids, never data a person typed; rewriting
# them would break the request.
_STRUCTURAL_KEYS = frozenset({"role", "type", "id", "tool_call_id"})


def _structural(key: object, value: object) -> bool:
    # Only a *string* under these keys is vocabulary; anything else there is walked like data.
    return key in _STRUCTURAL_KEYS and isinstance(value, str)


_TOP_LEVEL_SKIPPED = frozenset({"model"})
_TEXT_PART_TYPES = frozenset({"text", "refusal", "input_text", "output_text"})


def iter_texts(endpoint: str, body: Mapping[str, Any]) -> list[TextRef]:
    """Every text ``body`` carries for ``endpoint``, in document order.

    Guarantees: every non-empty string leaf of the body that is not structural appears exactly
    once; token-id prompts/inputs and non-text content parts appear as opaque references; nothing
    in ``body`` is modified. Raises :class:`UnsupportedEndpoint` for an unknown endpoint.
    """
    kind_of_endpoint = Endpoint.parse(endpoint)
    out: list[TextRef] = []
    for key, value in body.items():
        if key in _TOP_LEVEL_SKIPPED:
            continue
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
            _walk(value, path, _kind_for_key(key, TextKind.OTHER), None, out)
    return out


def _message(message: object, path: tuple[PathElement, ...], out: list[TextRef]) -> None:
    if not isinstance(message, Mapping):
        _walk(message, path, TextKind.CONTENT, None, out)
        return
    role = message.get("role")
    role_name = role if isinstance(role, str) else None
    for key, value in message.items():
        if _structural(key, value):
            continue
        child = (*path, key)
        if key == "content" and isinstance(value, list):
            for index, part in enumerate(value):
                _content_part(part, (*child, index), role_name, out)
        else:
            _walk(value, child, _kind_for_key(key, TextKind.CONTENT), role_name, out)


def _content_part(
    part: object, path: tuple[PathElement, ...], role: str | None, out: list[TextRef]
) -> None:
    if isinstance(part, Mapping):
        part_type = part.get("type")
        if part_type not in _TEXT_PART_TYPES:
            # Images, audio and files may well show a patient's name; we cannot read them here.
            reason = f"{part_type} content part" if isinstance(part_type, str) else "content part"
            out.append(TextRef(path, TextKind.CONTENT, role=role, opaque_reason=reason))
            return
    _walk(part, path, TextKind.CONTENT, role, out)


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
) -> None:
    if isinstance(value, str):
        if value:
            out.append(TextRef(path, kind, value, role))
    elif isinstance(value, Mapping):
        for key, child in value.items():
            if _structural(key, child) or not isinstance(key, str):
                continue
            _walk(child, (*path, key), _kind_for_key(key, kind), role, out)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        for index, child in enumerate(value):
            _walk(child, (*path, index), kind, role, out)
