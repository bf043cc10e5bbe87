"""Cells that spreadsheets show as text, never run as formulas (finance opens our CSV files)."""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str | None) -> str:
    """``value`` as a text cell: a leading apostrophe when it would start a formula."""
    text = value or ""
    return "'" + text if could_be_formula(text) else text


def could_be_formula(value: str) -> bool:
    """True when a spreadsheet would read ``value``, alone in a cell, as a formula."""
    return value.startswith(_FORMULA_STARTS)
