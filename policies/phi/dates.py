"""Dates of care (DATE) and of birth (BIRTHDATE), numeric and written, French and English."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from policies.spans import Span

from .caseless import caseless_alternation, first_letter_guard
from .keyword_search import matches_at
from .kinds import PhiKind

# French month names and abbreviations, case-insensitive (see caseless.py). Optional letters
# are spelled out longest first, the order in which a greedy "févr?\.?" tries them.
_FR_MONTHS = caseless_alternation(
    ("janvier", "janv.", "janv", "février", "fevrier", "févr.", "févr", "fév.", "fév", "fevr.",
     "fevr", "fev.", "fev", "mars", "avril", "avr.", "avr", "mai", "juin", "juillet", "juil.",
     "juil", "août", "aout", "septembre", "sept.", "sept", "sep.", "sep", "octobre", "oct.", "oct",
     "novembre", "nov.", "nov", "décembre", "decembre", "déc.", "déc", "dec.", "dec")
)  # fmt: skip
_EN_MONTHS = (
    r"January|Jan\.?|February|Feb\.?|March|Mar\.?|April|Apr\.?|May|June|Jun\.?|July|Jul\.?"
    r"|August|Aug\.?|September|Sept?\.?|October|Oct\.?|November|Nov\.?|December|Dec\.?"
)
_YEAR = r"(?:19|20)\d\d"

# What follows the first digit in the numeric scanner. Numeric: dd/mm/yyyy, dd.mm.yy,
# mm/dd/yyyy (validated by :func:`numeric_date_ok`), yyyy-mm-dd and yyyy/mm/dd.
NUMERIC_DATE_AFTER_FIRST_DIGIT = (
    r"(?:\d?(?P<date_s>[/.\-])(?P<date_b>\d{1,2})(?P=date_s)(?P<date_y>(?:19|20)\d\d|\d\d)"
    r"|\d\d\d(?P<iso_s>[\-/])(?:0?[1-9]|1[0-2])(?P=iso_s)(?:0?[1-9]|[12]\d|3[01])"
    r")(?![\w]|[/.\-]\d)"
)
# Written with the day first: "3 mars 2024", "1er mars", "3rd of March 2024". Possessive
# quantifiers (++, ?+) where giving characters back could never help, since the next item
# cannot match a digit or a blank: failing numbers ("5 mg") are given up sooner. An optional
# word is spelled "(?:er|)", not "(?:er)?": same matches, but the engine rejects the word on
# its first letter instead of setting up a repeat at each of the scanner's ~10k digits.
DAY_FIRST_AFTER_FIRST_DIGIT = (
    rf"\d?+(?:"
    rf"(?:er|)\s++{_FR_MONTHS}(?:\s++{_YEAR})?"
    rf"|(?:st|nd|rd|th|)\s++(?:of\s++|)(?:{_EN_MONTHS})(?:,?\s++{_YEAR})?"
    rf")(?![\w])"
)
# A day and month with no year ("16/09"), a date only after "le"/"du"/"au" (see
# :func:`day_month_ok`): alone it is as often a score ("9/10") or a ratio.
DAY_MONTH_AFTER_FIRST_DIGIT = r"\d?/(?:0?[1-9]|1[0-2])(?![\w/]|[.,]\d)"
_DAY_MONTH_LEAD = re.compile(r"(?i:(?<![\w])(?:le|du|au|depuis|jusqu'au|jusqu\u2019au))[ \t]+\Z")
# A bare 19xx/20xx year; the scanner's caller looks just before it for a French month
# ("mars 2024"), which is cheaper than searching the whole text for month names.
YEAR_AFTER_FIRST_DIGIT = r"(?:(?<=1)9|(?<=2)0)\d\d(?![\w]|[.,/]\d)"
_FR_MONTH_BEFORE = re.compile(rf"(?<![\w]){_FR_MONTHS}\s+\Z")
# Every match of _EN_MONTH_FIRST starts with one of these, in the text's lower-cased copy.
ENGLISH_MONTH_KEYWORDS = (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
)  # fmt: skip
# English month first: "March 3, 2024", "March 2024" (the capital is required: "may" is a verb).
# A month alone is never a date.
_EN_MONTH_FIRST = re.compile(
    rf"(?:{_EN_MONTHS})(?:\s+(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?:,?\s+{_YEAR})?"
    rf"|\s+{_YEAR})(?![\w])"
)

BIRTH_WORDS = ("né", "ne ", "ne(", "nee", "ddn", "d.d.n", "naissance", "born", "dob", "d.o.b",
                "birth")  # fmt: skip
# What announces a date of birth, at most a few words before the date ("née DUPONT le").
_BIRTH_CONTEXT = re.compile(
    first_letter_guard("ndb") + r"(?i:\bn[ée]e?(?:\s*\(e\))?(?:\s+[A-ZÀ-Þ][\w\-]*){0,3}\s+le"
    r"|\bDDN|\bD\.D\.N\.?|date\s+de\s+naissance|\bn[ée]e?(?:\s*\(e\))?\s+en"
    r"|\bborn(?:\s+on)?|\bDOB|\bD\.O\.B\.?|date\s+of\s+birth|birth\s*date|\bbirthday)"
    r"\s*[:.\-]?\s*(?:le\s+|on\s+)?\Z"
)


_BIRTHDATE = PhiKind.BIRTHDATE.value
_DATE = PhiKind.DATE.value


def date_kind(text: str, start: int, birth_words: Sequence[tuple[int, int]] | None = None) -> str:
    """BIRTHDATE when the words just before ``start`` announce a date of birth, else DATE.

    ``birth_words``: the sorted ``(start, end)`` offsets of :data:`BIRTH_WORDS` in
    ``text.lower()``, when that copy has the offsets of ``text``; None to look here.
    """
    window_start = max(0, start - 40)
    window = text[window_start:start]
    # The keyword test is a cheap filter in front of the costlier context regex.
    if birth_words is None:
        lowered = window.lower()
        has_word = any(word in lowered for word in BIRTH_WORDS)
    else:
        has_word = _holds_word(birth_words, window_start, start)
    if has_word and _BIRTH_CONTEXT.search(window):
        return _BIRTHDATE
    return _DATE


def _holds_word(words: Sequence[tuple[int, int]], begin: int, end: int) -> bool:
    """True when one of the sorted ``(start, end)`` occurrences lies within ``begin:end``."""
    at = bisect_left(words, (begin, 0))
    while at < len(words) and words[at][0] < end:
        if words[at][1] <= end:
            return True
        at += 1
    return False


def numeric_date_ok(match: re.Match[str], start: int) -> bool:
    """Checks a numeric-date match of the scanner: a real day and month, a 19xx/20xx ISO year."""
    text = match.string
    separator = match.group("date_s")
    if separator is None:
        return text.startswith(("19", "20"), start)
    first = int(text[start : match.start("date_s")])
    second = int(match.group("date_b"))
    # French dd/mm or US mm/dd.
    if not ((1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31)):
        return False
    # "1-2-24" is more often a range or a dosing scheme than a date.
    return not (len(match.group("date_y")) == 2 and separator == "-")


def day_month_ok(text: str, start: int) -> bool:
    """Checks a day/month match of the scanner: a real day, announced as a date by the word
    before it."""
    day = text[start : text.index("/", start)]
    if not 1 <= int(day) <= 31:
        return False
    return _DAY_MONTH_LEAD.search(text, max(0, start - 12), start) is not None


def day_first_ok(text: str, start: int) -> bool:
    """Checks a day-first match of the scanner: the day is 1-31."""
    day = text[start : start + 2]
    return 1 <= int(day if day.isdigit() else day[0]) <= 31


def french_month_year(
    text: str,
    year_start: int,
    year_end: int,
    birth_words: Sequence[tuple[int, int]] | None = None,
) -> Span | None:
    """The "mars 2024" span ending with the year at ``year_start``, if a French month precedes."""
    if not text.startswith(("19", "20"), year_start):
        return None
    # The month is followed by whitespace (``\s+\Z``), so a year after anything else needs no
    # search; ``str.isspace`` and the regex's ``\s`` test the same Unicode property.
    if not text[year_start - 1 : year_start].isspace():
        return None
    window_start = max(0, year_start - 16)
    month = _FR_MONTH_BEFORE.search(text, window_start, year_start)
    if month is None:
        return None
    return Span(month.start(), year_end, date_kind(text, month.start(), birth_words))


def find_english_month_first_dates(
    text: str,
    month_starts: list[int] | None = None,
    birth_words: Sequence[tuple[int, int]] | None = None,
) -> Iterator[Span]:
    """Spans of English dates written month first ("March 3, 2024", "March 2024").

    ``month_starts``: where :data:`ENGLISH_MONTH_KEYWORDS` occur in ``text.lower()``, in
    order, when that copy has the offsets of ``text``; None to search the whole text.
    """
    matches = (
        _EN_MONTH_FIRST.finditer(text)
        if month_starts is None
        else matches_at(_EN_MONTH_FIRST, text, month_starts)
    )
    for match in matches:
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue
        yield Span(start, match.end(), date_kind(text, start, birth_words))
