"""Data classes a request may carry, ordered from least to most sensitive."""

from __future__ import annotations

from enum import IntEnum


class DataClass(IntEnum):
    """Sensitivity of the data in a request; a larger value is stricter.

    The integer order is the policy order: the class of a request is the *maximum* of what the
    caller declares, its department's default and what the detector finds.
    """

    PUBLIC = 0
    INTERNAL = 1
    PERSONAL = 2
    HEALTH = 3

    @classmethod
    def parse(cls, value: str) -> DataClass:
        """Read a class from its lower-case name (``"health"``); raises ``ValueError`` otherwise."""
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(member.name.lower() for member in cls)
            raise ValueError(f"unknown data class {value!r} (expected one of: {names})") from None

    @property
    def label(self) -> str:
        """The lower-case name used in configuration, headers and the ledger."""
        return self.name.lower()


def strictest(*classes: DataClass | None) -> DataClass:
    """The most sensitive of the given classes (``PUBLIC`` when none is given)."""
    present = [c for c in classes if c is not None]
    return max(present, default=DataClass.PUBLIC)
