"""What a JSON key says about its value, and which keys are protocol vocabulary.

In ``{"ipp": 12345678}`` the key is the only sign that the number is a patient's IPP: a tool
result or a ``metadata`` object carries no sentence around it for the detector to read. A value
under such a key is an identifier of the key's type, whatever the detector makes of it alone.
The same holds inside texts that are JSON documents (tool results, tool-call arguments), which
:func:`keyed_value_spans` reads without parsing them (a fragment of JSON pasted in a sentence
counts as well).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from policies.spans import Span

_PERSON_KEYS = (
    "nom", "prenom", "prenoms", "patient", "nompatient", "patientname", "nomusage",
    "nomnaissance", "nomdenaissance", "nomdefamille", "lastname", "firstname", "surname",
    "givenname", "familyname", "fullname", "nomcomplet", "malade",
)  # fmt: skip

# Key (lower case, accents, spaces, "_" and "-" removed) -> entity type of its scalar value.
_HINTS: dict[str, str] = {
    **dict.fromkeys(
        ("ipp", "numipp", "noipp", "idpatient", "patientid", "mrn", "numeropatient"), "IPP"
    ),
    **dict.fromkeys(
        ("nda", "numnda", "nosejour", "numsejour", "numerosejour", "iep", "visitid"), "NDA"
    ),
    **dict.fromkeys(
        ("nir", "numsecu", "secu", "securitesociale", "numsecuritesociale", "nss", "ssn", "ins"),
        "NIR",
    ),
    **dict.fromkeys(
        ("ddn", "datenaissance", "datedenaissance", "naissance", "birthdate", "dateofbirth"),
        "BIRTHDATE",
    ),
    **dict.fromkeys(("dob", "birthday", "nele", "neele"), "BIRTHDATE"),
    **dict.fromkeys(_PERSON_KEYS, "PERSON"),
    **dict.fromkeys(
        ("telephone", "tel", "phone", "mobile", "portable", "numtel", "phonenumber"), "PHONE"
    ),
    **dict.fromkeys(("adresse", "address", "domicile", "rue", "street"), "ADDRESS"),
    **dict.fromkeys(("email", "mail", "courriel", "emailaddress"), "EMAIL"),
}

# Identifier-looking values are short: a long text under "patient" is a note about a patient,
# which the detector reads like any other text.
_MAX_HINTED_LENGTH = 80
_NUMERIC_TYPES = frozenset({"IPP", "NDA", "NIR", "PHONE", "BIRTHDATE"})

# Keys of the OpenAI protocol and of JSON Schema: names chosen by code, never data, so not worth
# a detector pass each. Any other key (a client's own) is scanned.
PROTOCOL_KEYS = frozenset(
    {
        "model", "messages", "role", "content", "name", "type", "text", "refusal", "tool_calls",
        "id", "function", "arguments", "tool_call_id", "function_call", "tools", "tool_choice",
        "parameters", "description", "strict", "properties", "required", "items", "enum",
        "additionalProperties", "title", "default", "format", "minimum", "maximum",
        "minLength", "maxLength", "pattern", "anyOf", "oneOf", "allOf", "$ref", "$defs",
        "definitions", "response_format", "json_schema", "schema", "temperature", "top_p",
        "max_tokens", "max_completion_tokens", "stream", "stream_options", "include_usage",
        "stop", "n", "seed", "user", "metadata", "logprobs", "top_logprobs", "logit_bias",
        "presence_penalty", "frequency_penalty", "parallel_tool_calls", "image_url", "url",
        "detail", "input_audio", "data", "file", "file_id", "filename", "file_data", "prompt",
        "suffix", "input", "encoding_format", "dimensions", "echo", "best_of", "store",
        "reasoning_effort", "modalities", "audio", "voice", "prediction", "service_level",
        "service_tier", "web_search_options", "top_k", "min_p", "repetition_penalty",
        "ignore_eos", "skip_special_tokens", "guided_json", "guided_choice", "guided_regex",
        "extra_body", "chat_template_kwargs", "examples", "const", "nullable",
    }
)  # fmt: skip

# Protocol vocabulary under "role" and "type": anything else there is scanned like data.
PROTOCOL_VALUES = frozenset(
    {
        "system", "user", "assistant", "tool", "developer", "function", "text", "image_url",
        "input_audio", "file", "refusal", "input_text", "output_text", "json_schema",
        "json_object", "object", "string", "array", "integer", "number", "boolean", "null",
    }
)  # fmt: skip

# A JSON (or Python-literal) member with a scalar value: "key": "value" / 'key': 123.
_MEMBER = re.compile(
    r"""(?P<q>["'])(?P<key>[^"'\\\n]{1,40})(?P=q)\s*:\s*"""
    r"""(?:"(?P<dq>(?:[^"\\\n]|\\.){1,200})"|'(?P<sq>[^'\\\n]{1,200})'"""
    r"""|(?P<num>[-+]?\d[\d .\-/]{3,30}\d))"""
)


_TITLE = re.compile(
    r"(?:m|mme|mlle|mr|mrs|ms|dr|pr|monsieur|madame|mademoiselle|docteur)\.?\s+", re.IGNORECASE
)


def hint_for_key(key: str) -> str | None:
    """The entity type a scalar value under ``key`` is, or None for an ordinary key."""
    if key.isascii():
        folded = key.lower()
    else:
        folded = unicodedata.normalize("NFKD", key.lower()).encode("ascii", "ignore").decode()
    return _HINTS.get(folded.replace("_", "").replace("-", "").replace(" ", "").replace(".", ""))


def hinted_span(hint: str | None, value: str) -> Span | None:
    """The span of ``value`` (stripped of blanks) that a key of type ``hint`` makes an
    identifier, or None when the value does not look like one."""
    if hint is None or not value or len(value) > _MAX_HINTED_LENGTH:
        return None
    start = len(value) - len(value.lstrip())
    end = len(value.rstrip())
    if start >= end:
        return None
    core = value[start:end]
    if hint == "PERSON":
        # "Mme Jeanne DUPONT": the title stays, as in a text the detector reads.
        title = _TITLE.match(core)
        if title is not None and title.end() < len(core):
            start += title.end()
            core = value[start:end]
    if hint in _NUMERIC_TYPES:
        if sum(char.isdigit() for char in core) < 4:
            return None
    elif not any(char.isalnum() for char in core):
        return None
    return Span(start, end, hint)


def keyed_value_spans(text: str) -> list[Span]:
    """Spans of the values under identifier keys in the JSON members ``text`` holds."""
    if '":' not in text and "':" not in text and '" :' not in text:
        return []
    found: list[Span] = []
    for match in _MEMBER.finditer(text):
        hint = hint_for_key(match.group("key"))
        if hint is None:
            continue
        group = next(g for g in ("dq", "sq", "num") if match.group(g) is not None)
        span = hinted_span(hint, match.group(group))
        if span is not None:
            offset = match.start(group)
            found.append(Span(offset + span.start, offset + span.end, span.type))
    return found


def union(spans: Iterable[Span]) -> list[Span]:
    """``spans`` sorted, overlapping ones joined into one (the earliest one's type)."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.type)
        else:
            merged.append(span)
    return merged
