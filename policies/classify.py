"""The data class of a request: the strictest of what is declared, defaulted and detected.

Each input that can raise the class is kept separately (:class:`ClassSource`), so that the
policy can tell *why* a request is ``health`` and pseudonymisation can remove exactly the part
that came from detected identifiers and nothing else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from policies.data_class import DataClass, strictest
from policies.key_context import hinted_span, keyed_value_spans, union
from policies.request_texts import TextKind, TextRef
from policies.spans import Span


class Detector(Protocol):
    """Anything that finds identifiers in a text (the PHI detector, a test double…)."""

    def detect(self, text: str) -> list[Span]: ...


class InvalidDataClassHeader(ValueError):
    """The ``x-hygie-data-class`` header holds no known data class (rendered as HTTP 400)."""

    status_code = 400
    error_type = "invalid_request_error"
    code = "invalid_data_class"

    def __init__(self, detail: str) -> None:
        super().__init__(f"invalid x-hygie-data-class header: {detail}")


class InvalidSpan(ValueError):
    """A detector returned a span outside its text: a detector bug, never silently ignored."""


def parse_declared_class(header_value: str | None) -> DataClass | None:
    """The class a caller declares in ``x-hygie-data-class``; ``None`` when the header is absent.

    Raises :class:`InvalidDataClassHeader` for any other value (an empty one included): a typo
    must not silently downgrade what the caller meant to declare.
    """
    if header_value is None:
        return None
    try:
        return DataClass.parse(header_value)
    except ValueError as error:
        raise InvalidDataClassHeader(str(error)) from None


def _data_class(value: object) -> DataClass:
    # Only names are accepted: ``3`` in a policy file is more likely a mistake than "health".
    if isinstance(value, DataClass):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a data class name, got {value!r}")
    return DataClass.parse(value)


DataClassName = Annotated[DataClass, BeforeValidator(_data_class)]
"""A pydantic field type that reads ``"health"`` (and only names) into :class:`DataClass`."""


# Patient identifiers make a request health data in a clinical gateway; contact details alone are
# personal data; dates, postcodes and towns alone identify nobody.
DEFAULT_ENTITY_CLASSES: Mapping[str, DataClass] = MappingProxyType(
    {
        "PERSON": DataClass.HEALTH,
        "BIRTHDATE": DataClass.HEALTH,
        "NIR": DataClass.HEALTH,
        "IPP": DataClass.HEALTH,
        "NDA": DataClass.HEALTH,
        "ADDRESS": DataClass.PERSONAL,
        "PHONE": DataClass.PERSONAL,
        "EMAIL": DataClass.PERSONAL,
        "IBAN": DataClass.PERSONAL,
        "RPPS": DataClass.PERSONAL,
        "DATE": DataClass.INTERNAL,
        "ZIP": DataClass.INTERNAL,
        "CITY": DataClass.INTERNAL,
    }
)


class ClassificationRules(BaseModel):
    """The ``classification:`` section of a policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    minimum: DataClassName = DataClass.PUBLIC
    """Every request is at least this class."""
    unscannable_input: DataClassName = DataClass.HEALTH
    """Class of a request that carries input the detector cannot read (token ids, images…)."""
    unknown_entity: DataClassName = DataClass.HEALTH
    """Class of an entity type missing from ``entities`` (a new detector's new type)."""
    entities: dict[str, DataClassName] = Field(default_factory=lambda: dict(DEFAULT_ENTITY_CLASSES))
    """Entity type (``NIR``, ``EMAIL``…) → class of a request in which it is detected."""

    @field_validator("entities")
    @classmethod
    def _upper_case_types(cls, value: dict[str, DataClass]) -> dict[str, DataClass]:
        for name in value:
            if not name or name != name.upper():
                raise ValueError(f"entity type {name!r} must be upper case (PERSON, NIR…)")
        return value

    def class_of_entity(self, entity_type: str) -> DataClass:
        """The class a detected entity of ``entity_type`` gives a request."""
        return self.entities.get(entity_type, self.unknown_entity)


class ClassSource(StrEnum):
    """An input that can set a request's class."""

    DECLARED = "declared"  # the x-hygie-data-class header
    DEFAULT = "default"  # the department's or use case's default
    DETECTED = "detected"  # identifiers found by the detector
    UNSCANNABLE = "unscannable"  # input the detector could not read
    MINIMUM = "policy_minimum"  # the policy's floor


@dataclass(frozen=True, slots=True)
class ScannedText:
    """One text and the identifiers found in it. Lives in memory only; ``repr`` hides the text."""

    ref: TextRef
    spans: tuple[Span, ...]

    def __repr__(self) -> str:
        return f"ScannedText({self.ref!r}, {len(self.spans)} spans)"


@dataclass(frozen=True, slots=True)
class Classification:
    """The class of one request and what set it.

    ``data_class`` is always the strictest of ``contributions`` (``PUBLIC`` when empty) and
    ``sources`` are the inputs that reached it: both are derived at construction, so they can
    never disagree. ``scanned`` keeps the spans for pseudonymisation; it is left out of ``repr``
    and of every serialised form.
    """

    contributions: Mapping[ClassSource, DataClass]
    entity_counts: Mapping[str, int] = field(default_factory=dict)
    scanned: tuple[ScannedText, ...] = field(default=(), repr=False)
    unscannable_count: int = 0
    data_class: DataClass = field(init=False)
    """The class the policy applies to this request."""
    sources: frozenset[ClassSource] = field(init=False)
    """The inputs whose class equals :attr:`data_class` (several on a tie)."""
    class_without_detection: DataClass = field(init=False)
    """The class once every detected identifier is removed.

    Pseudonymisation removes what the detector found and nothing else: a declared class, a
    department default or input nobody could read keeps its class.
    """

    def __post_init__(self) -> None:
        # Computed once: the policy reads these several times per deployment.
        final = strictest(*self.contributions.values())
        undetected = strictest(
            *(c for source, c in self.contributions.items() if source is not ClassSource.DETECTED)
        )
        sources = frozenset(s for s, c in self.contributions.items() if c == final)
        object.__setattr__(self, "data_class", final)
        object.__setattr__(self, "sources", sources)
        object.__setattr__(self, "class_without_detection", undetected)


def classify(
    texts: Sequence[TextRef],
    detector: Detector,
    rules: ClassificationRules,
    *,
    declared: DataClass | None = None,
    default: DataClass | None = None,
) -> Classification:
    """Scan every readable text with ``detector`` and combine the result with the other inputs.

    ``declared`` is the parsed header (see :func:`parse_declared_class`); ``default`` is the
    strictest default of the caller's department and use case. The detector's exceptions
    propagate: a request that could not be scanned must not be forwarded as if it were clean.
    Raises :class:`InvalidSpan` when the detector returns a span outside its text.
    """
    contributions: dict[ClassSource, DataClass] = {ClassSource.MINIMUM: rules.minimum}
    if declared is not None:
        contributions[ClassSource.DECLARED] = declared
    if default is not None:
        contributions[ClassSource.DEFAULT] = default

    counts: Counter[str] = Counter()
    scanned: list[ScannedText] = []
    unscannable = 0
    for ref in texts:
        if not ref.scannable:
            unscannable += 1
            continue
        spans = _spans_of(ref, detector)
        for span in spans:
            if not 0 <= span.start < span.end <= len(ref.text):
                raise InvalidSpan(
                    f"detector returned span {span.start}:{span.end} ({span.type}) "
                    f"outside a text of {len(ref.text)} characters at {ref.location}"
                )
            counts[span.type] += 1
        scanned.append(ScannedText(ref, spans))

    if counts:
        contributions[ClassSource.DETECTED] = strictest(*map(rules.class_of_entity, counts))
    if unscannable:
        contributions[ClassSource.UNSCANNABLE] = rules.unscannable_input
    return Classification(
        contributions=MappingProxyType(contributions),
        entity_counts=MappingProxyType(dict(sorted(counts.items()))),
        scanned=tuple(scanned),
        unscannable_count=unscannable,
    )


# ``name`` fields and keys join words with "_": read as spaces (same length, so the offsets
# hold) so that "Jeanne_DUPONT" reads as the name it is. Dots and dashes stay: dates use them.
_JOINERS = str.maketrans("_", " ")


def _spans_of(ref: TextRef, detector: Detector) -> tuple[Span, ...]:
    """What the detector finds, plus what the keys around the text say is an identifier."""
    text = ref.text
    readable = text.translate(_JOINERS) if ref.kind in (TextKind.NAME, TextKind.KEY) else text
    found = detector.detect(readable)
    extra = keyed_value_spans(text)
    hinted = hinted_span(ref.hint, text)
    if hinted is not None:
        extra.append(hinted)
    # The keys' word first: on a tie ("ddn": a date) the hint's type (BIRTHDATE) wins.
    return tuple(union([*extra, *found]) if extra else sorted(found))
