"""A department's monthly chargeback statement, and its CSV (the HTML page is
:mod:`billing.reports.statement_html`).

Guarantees:

* Line amounts are in cents as :mod:`billing.reports.ledger_charges` rounded them (each department's
  exact total rounded once, spread by largest remainder); totals are sums of those lines, so
  a reader adding the column gets the total, and the total is what FOCUS and the usage report
  say.
* Usage lines (tokens, dedicated GPU time) and the capacity true-up are shown apart, with a
  subtotal each; a price change within the month shows as two lines, one per price version.
* ``variance = budget - total``: positive when the department stayed under budget.
* The statement says whether its month is closed (final) or provisional, in every format.
* CSV files follow the language's conventions (``;`` and decimal comma in French) and start
  with a UTF-8 byte-order mark, so Excel opens them in columns with accents intact; text that
  a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.money import ZERO, format_plain, to_cents
from billing.periods import Period
from billing.pricing.true_up import ON_PREMISE, TrueUp
from billing.reports.rows import ChargeLine, TokenClass
from billing.reports.spreadsheet import safe_cell
from billing.reports.statement_locale import locale_of, word

CURRENCY = "EUR"

_CLASS_ORDER = {
    TokenClass.INPUT: 0,
    TokenClass.CACHED_INPUT: 1,
    TokenClass.OUTPUT: 2,
    TokenClass.GPU_TIME: 3,
    TokenClass.TRUE_UP: 4,
    TokenClass.CORRECTION: 5,
}
_CLASS_LABEL = {
    TokenClass.INPUT: "Input tokens",
    TokenClass.CACHED_INPUT: "Cached input tokens",
    TokenClass.OUTPUT: "Output tokens",
    TokenClass.GPU_TIME: "Dedicated GPU time",
    TokenClass.TRUE_UP: "Capacity true-up",
    TokenClass.CORRECTION: "Correction",
}


class StatementError(ValueError):
    """A line does not belong on the statement (other department, outside the month)."""


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One printed line; ``amount`` is in cents."""

    description: str
    model: str | None
    token_class: TokenClass
    consumed_quantity: Decimal | None
    consumed_unit: str | None
    quantity: Decimal | None
    unit: str | None
    unit_price: Decimal | None
    amount: Decimal
    price_version: str | None
    hosting_class: str = ""
    requests: int | None = None
    use_case: str | None = None
    resource_id: str | None = None
    corrects: str | None = None
    price_from: datetime | None = None
    pricing_currency: str = "EUR"
    pricing_unit_price: Decimal | None = None
    fx_rate: Decimal | None = None
    group: tuple[object, ...] = ()
    """Identifies the ledger group the line comes from (its classes share the requests)."""

    @property
    def is_true_up(self) -> bool:
        """An adjustment rather than usage: the true-up, or a correction of a closed month."""
        return self.token_class in (TokenClass.TRUE_UP, TokenClass.CORRECTION)


@dataclass(frozen=True, slots=True)
class Statement:
    """What one department owes for one month."""

    department_id: str
    department_name: str
    period: Period
    lines: tuple[StatementLine, ...]
    budget: Decimal | None
    status: str = "provisional"
    """``closed`` (final) or ``provisional``."""
    issued_on: date | None = None
    """The closing day for a closed month; the day it was printed for a provisional one."""
    issuer: str = ""
    cost_centre: str | None = None
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Paris"))
    pools: tuple[TrueUp, ...] = ()
    """The true-ups of the pools this department has a part in (for the method block)."""

    @property
    def number(self) -> str:
        """A stable statement number: month and department (``2026-10-cardiologie``)."""
        return f"{self.period.key}-{self.department_id}"

    @property
    def first_day(self) -> date:
        return self.period.start.astimezone(self.tz).date()

    @property
    def last_day(self) -> date:
        """The last day of the period, included, in the organisation's time zone."""
        return self.period.end.astimezone(self.tz).date() - timedelta(days=1)

    def subtotal(self, kind: str) -> Decimal:
        """``external``, ``onprem``, ``dedicated``, ``true_up`` or ``corrections``."""
        return to_cents(sum((ln.amount for ln in self.lines if _kind(ln) == kind), ZERO))

    @property
    def usage_lines(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if not line.is_true_up)

    @property
    def true_up_lines(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.is_true_up)

    @property
    def usage_total(self) -> Decimal:
        return to_cents(sum((line.amount for line in self.usage_lines), ZERO))

    @property
    def true_up_total(self) -> Decimal:
        return to_cents(sum((line.amount for line in self.true_up_lines), ZERO))

    @property
    def total(self) -> Decimal:
        """Sum of every (rounded) line."""
        return to_cents(sum((line.amount for line in self.lines), ZERO))

    @property
    def variance(self) -> Decimal | None:
        """``budget - total`` (positive: under budget), or None without a budget."""
        return None if self.budget is None else to_cents(self.budget - self.total)


def _kind(line: StatementLine) -> str:
    if line.token_class is TokenClass.TRUE_UP:
        return "true_up"
    if line.token_class is TokenClass.CORRECTION:
        return "corrections"
    if line.token_class is TokenClass.GPU_TIME:
        return "dedicated"
    return "onprem" if line.hosting_class == ON_PREMISE else "external"


def _statement_line(line: ChargeLine) -> StatementLine:
    label = _CLASS_LABEL[line.token_class]
    if line.description:
        description = line.description
    elif line.model:
        description = f"{label}, {line.model}"
    else:
        description = label
    return StatementLine(
        description=description,
        model=line.model,
        token_class=line.token_class,
        consumed_quantity=line.consumed_quantity,
        consumed_unit=line.consumed_unit,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        amount=to_cents(line.amount),
        price_version=line.price_version,
        hosting_class=line.hosting_class,
        requests=line.requests,
        use_case=line.tags.get("use_case"),
        resource_id=line.resource_id,
        corrects=line.corrects,
        price_from=line.price_from,
        pricing_currency=line.pricing_currency,
        pricing_unit_price=line.pricing_unit_price,
        fx_rate=line.fx_rate,
        group=(
            line.tags.get("use_case"),
            line.model,
            line.resource_id,
            line.price_version,
            line.fx_rate,
        ),
    )


def build_statement(
    department_id: str,
    department_name: str,
    period: Period,
    lines: Iterable[ChargeLine],
    *,
    budget: Decimal | None = None,
    status: str = "provisional",
    issued_on: date | None = None,
    issuer: str = "",
    cost_centre: str | None = None,
    tz: ZoneInfo | None = None,
    pools: Iterable[TrueUp] = (),
) -> Statement:
    """The statement of ``department_id`` for ``period`` from its charge lines.

    Raises :class:`StatementError` for a line of another department or outside ``period``:
    a statement that silently dropped or absorbed lines could not be trusted.
    """
    kept: list[ChargeLine] = []
    for line in lines:
        if line.department_id != department_id:
            raise StatementError(
                f"line for {line.department_id!r} on {department_id!r}'s statement"
            )
        if line.period_start < period.start or line.period_end > period.end:
            raise StatementError(f"line outside {period.key}: {line.period_start.isoformat()}")
        kept.append(line)
    kept.sort(
        key=lambda ln: (
            ln.token_class is TokenClass.CORRECTION,
            ln.token_class is TokenClass.TRUE_UP,
            ln.token_class is TokenClass.GPU_TIME,
            ln.model or "",
            _CLASS_ORDER[ln.token_class],
            ln.period_start,
            ln.price_version or "",
        )
    )
    return Statement(
        department_id=department_id,
        department_name=department_name,
        period=period,
        lines=tuple(_statement_line(line) for line in kept),
        budget=None if budget is None else to_cents(budget),
        status=status,
        issued_on=issued_on,
        issuer=issuer,
        cost_centre=cost_centre,
        tz=tz or ZoneInfo("Europe/Paris"),
        pools=tuple(
            pool
            for pool in pools
            if any(p.department_id == department_id for p in pool.departments)
        ),
    )


CSV_COLUMNS = (
    "statement_number",
    "status",
    "department_id",
    "department_name",
    "cost_centre",
    "period",
    "row_type",
    "description",
    "use_case",
    "model",
    "token_class",
    "requests",
    "consumed_quantity",
    "consumed_unit",
    "quantity",
    "unit",
    "unit_price_eur",
    "amount_eur",
    "price_version",
)
BOM = "\ufeff"


@dataclass(slots=True)
class UseCaseRow:
    """Usage of one model for one use case during the month."""

    use_case: str | None
    model: str
    hosting_class: str
    requests: int = 0
    tokens: int = 0
    amount: Decimal = ZERO


def use_case_breakdown(statement: Statement) -> list[UseCaseRow]:
    """Token usage by (use case, model), largest amount first.

    Requests are counted once per ledger group (its token classes are separate lines).
    """
    rows: dict[tuple[str | None, str], UseCaseRow] = {}
    seen_groups: set[tuple[object, ...]] = set()
    for line in statement.usage_lines:
        if line.token_class is TokenClass.GPU_TIME or line.model is None:
            continue
        row = rows.setdefault(
            (line.use_case, line.model), UseCaseRow(line.use_case, line.model, line.hosting_class)
        )
        if line.group not in seen_groups:
            seen_groups.add(line.group)
            row.requests += line.requests or 0
        if line.consumed_quantity is not None:
            row.tokens += int(line.consumed_quantity)
        row.amount += line.amount
    return sorted(rows.values(), key=lambda r: (-r.amount, r.use_case or "", r.model))


def render_csv(statement: Statement, lang: str = "fr") -> str:
    """The statement as CSV: one ``line`` row per line, then subtotal/total/budget/variance rows.

    In the language's convention (``;`` and decimal comma in French, ``,`` and point in
    English), with a UTF-8 byte-order mark. Amounts have two decimals; quantities and unit
    prices are exact. Text that a spreadsheet would run as a formula gets an apostrophe.
    """
    locale = locale_of(lang)
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=locale.csv_delimiter, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    head = [
        safe_cell(statement.number),
        statement.status,
        safe_cell(statement.department_id),
        safe_cell(statement.department_name),
        safe_cell(statement.cost_centre),
        statement.period.key,
    ]

    def plain(value: Decimal | None) -> str:
        return "" if value is None else locale.plain(Decimal(format_plain(value)))

    for line in statement.lines:
        writer.writerow(
            [
                *head,
                "adjustment" if line.is_true_up else "line",
                safe_cell(line.description),
                safe_cell(line.use_case),
                safe_cell(line.model),
                str(line.token_class),
                "" if line.requests is None else str(line.requests),
                plain(line.consumed_quantity),
                safe_cell(line.consumed_unit),
                plain(line.quantity),
                safe_cell(line.unit),
                plain(line.unit_price),
                locale.plain(to_cents(line.amount)),
                safe_cell(line.price_version),
            ]
        )
    summary = [
        ("subtotal_external", "external", statement.subtotal("external")),
        ("subtotal_onprem", "onprem", statement.subtotal("onprem")),
        ("subtotal_dedicated", "dedicated", statement.subtotal("dedicated")),
        ("subtotal_true_up", "true_up", statement.subtotal("true_up")),
        ("subtotal_corrections", "corrections", statement.subtotal("corrections")),
        ("total", "total", statement.total),
    ]
    if statement.budget is not None and statement.variance is not None:
        summary.append(("budget", "budget", statement.budget))
        summary.append(("variance", "variance", statement.variance))
    blanks = [""] * (len(CSV_COLUMNS) - len(head) - 4)
    for row_type, label, amount in summary:
        writer.writerow([*head, row_type, word(label, locale), *blanks, locale.plain(amount), ""])
    return buffer.getvalue()


def lines_by_department(lines: Iterable[ChargeLine]) -> Mapping[str, list[ChargeLine]]:
    """Lines grouped by department id (the unallocated capacity line is left out)."""
    grouped: dict[str, list[ChargeLine]] = {}
    for line in lines:
        if line.department_id is not None:
            grouped.setdefault(line.department_id, []).append(line)
    return grouped
