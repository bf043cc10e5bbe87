"""A department's monthly chargeback statement, as CSV and as a printable HTML page.

Guarantees:

* Every line amount is rounded half-even to the cent (:func:`billing.money.to_cents`) and the
  totals are the sums of the rounded lines, so a reader adding the column gets the total.
* Usage lines (tokens, dedicated GPU time) and the capacity true-up are shown apart, with a
  subtotal each; a price change within the month shows as two lines, one per price version.
* ``variance = budget - total``: positive when the department stayed under budget.
* The HTML page is standalone (inline CSS, no scripts, no external resources) and escapes every
  value, so a department or model name cannot inject markup.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from billing.money import ZERO, format_plain, to_cents
from billing.periods import Period
from billing.report_rows import ChargeLine, TokenClass
from billing.spreadsheet import safe_cell

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

    @property
    def is_true_up(self) -> bool:
        return self.token_class is TokenClass.TRUE_UP


@dataclass(frozen=True, slots=True)
class Statement:
    """What one department owes for one month."""

    department_id: str
    department_name: str
    period: Period
    lines: tuple[StatementLine, ...]
    budget: Decimal | None

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
    )


def build_statement(
    department_id: str,
    department_name: str,
    period: Period,
    lines: Iterable[ChargeLine],
    *,
    budget: Decimal | None = None,
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
    )


CSV_COLUMNS = (
    "department_id",
    "department_name",
    "period",
    "row_type",
    "description",
    "model",
    "token_class",
    "consumed_quantity",
    "consumed_unit",
    "quantity",
    "unit",
    "unit_price_eur",
    "amount_eur",
    "price_version",
)


def _text(value: str | None) -> str:
    return safe_cell(value)


def _plain(value: Decimal | None) -> str:
    return "" if value is None else format_plain(value)


def _cents(value: Decimal) -> str:
    return format(to_cents(value), "f")


def render_csv(statement: Statement) -> str:
    """The statement as CSV: one ``line`` row per line, then subtotal/total/budget/variance rows.

    Amounts have two decimals; quantities and unit prices are exact plain decimals. Text that a
    spreadsheet would run as a formula is prefixed with an apostrophe.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    head = [_text(statement.department_id), _text(statement.department_name), statement.period.key]
    for line in statement.lines:
        writer.writerow(
            [
                *head,
                "true_up" if line.is_true_up else "line",
                _text(line.description),
                _text(line.model),
                str(line.token_class),
                _plain(line.consumed_quantity),
                _text(line.consumed_unit),
                _plain(line.quantity),
                _text(line.unit),
                _plain(line.unit_price),
                _cents(line.amount),
                _text(line.price_version),
            ]
        )
    summary = [
        ("usage_subtotal", "Usage subtotal", statement.usage_total),
        ("true_up_subtotal", "Capacity true-up subtotal", statement.true_up_total),
        ("total", "Total", statement.total),
    ]
    if statement.budget is not None and statement.variance is not None:
        summary.append(("budget", "Budget", statement.budget))
        summary.append(("variance", "Variance (budget - total)", statement.variance))
    for row_type, label, amount in summary:
        writer.writerow([*head, row_type, label, "", "", "", "", "", "", "", _cents(amount), ""])
    return buffer.getvalue()


def _money(value: Decimal) -> str:
    return f"{to_cents(value):,.2f}"


def _number(value: Decimal | None, places: int = 6) -> str:
    if value is None:
        return ""
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    shown = value.quantize(Decimal(1).scaleb(-places)).normalize()
    return f"{shown:,f}"


_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #111; margin: 2em; font-size: 11pt; }
h1 { font-size: 16pt; margin-bottom: 0.2em; }
p.meta { color: #444; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; }
th, td { border-bottom: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.subtotal td { font-weight: bold; border-top: 1px solid #888; }
tr.total td { font-weight: bold; border-top: 2px solid #111; }
td.small { font-size: 8pt; color: #555; }
@media print {
  body { margin: 0; }
  tr { page-break-inside: avoid; }
  thead { display: table-header-group; }
}
""".strip()


def render_html(statement: Statement) -> str:
    """The statement as a standalone, print-friendly HTML page (every value escaped)."""

    def esc(value: object) -> str:
        return html.escape(str(value), quote=True)

    title = f"Chargeback statement {statement.department_name} {statement.period.key}"
    rows: list[str] = []

    def line_row(line: StatementLine) -> str:
        return (
            "<tr>"
            f"<td>{esc(line.description)}</td>"
            f'<td class="num">{esc(_number(line.consumed_quantity))} '
            f"{esc(line.consumed_unit or '')}</td>"
            f'<td class="num">{esc(_number(line.quantity))}</td>'
            f"<td>{esc(line.unit or '')}</td>"
            f'<td class="num">{esc(_number(line.unit_price))}</td>'
            f'<td class="num">{esc(_money(line.amount))}</td>'
            f'<td class="small">{esc(line.price_version or "")}</td>'
            "</tr>"
        )

    def summary_row(css: str, label: str, amount: Decimal) -> str:
        return (
            f'<tr class="{css}"><td colspan="5">{esc(label)}</td>'
            f'<td class="num">{esc(_money(amount))}</td><td></td></tr>'
        )

    rows.extend(line_row(line) for line in statement.usage_lines)
    rows.append(summary_row("subtotal", "Usage subtotal", statement.usage_total))
    rows.extend(line_row(line) for line in statement.true_up_lines)
    rows.append(summary_row("subtotal", "Capacity true-up subtotal", statement.true_up_total))
    rows.append(summary_row("total", f"Total ({CURRENCY})", statement.total))
    if statement.budget is not None and statement.variance is not None:
        rows.append(summary_row("subtotal", "Budget", statement.budget))
        rows.append(summary_row("subtotal", "Variance (budget - total)", statement.variance))

    start = statement.period.start.strftime("%Y-%m-%d %H:%M UTC")
    end = statement.period.end.strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n"
        f'<p class="meta">Department {esc(statement.department_name)} '
        f"({esc(statement.department_id)}), period {esc(statement.period.key)}: "
        f"{esc(start)} to {esc(end)}. Amounts in {CURRENCY}.</p>\n"
        '<table>\n<thead><tr><th>Description</th><th class="num">Consumed</th>'
        '<th class="num">Quantity</th><th>Unit</th><th class="num">Unit price</th>'
        '<th class="num">Amount</th><th>Price version</th></tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n</body>\n</html>\n"
    )
