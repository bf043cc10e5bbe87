"""A chargeback statement as a standalone HTML page a finance controller can sign.

In French by default (English on request). The page says who issues it, its number and date,
the department and cost centre, the period in the organisation's time zone, whether the month
is closed (final) or provisional, and that it is an internal transfer; then a summary
(external providers, on-premise usage, dedicated GPUs, capacity true-up, corrections, total),
usage by use case and model with request counts, the lines with readable units, and how the
true-up was computed (the pool's cost and its components, hours, the department's share).

Made to print on one A4 page for a typical department (``@page`` A4, compact type). The page
is standalone (inline CSS, no scripts, no external resources) and escapes every value, so a
department or model name cannot inject markup.
"""

from __future__ import annotations

import html
from decimal import Decimal

from billing.money import ZERO
from billing.pricing.true_up import TrueUp
from billing.reports.chargeback import Statement, StatementLine, use_case_breakdown
from billing.reports.rows import TokenClass
from billing.reports.statement_locale import WORDS, Locale, locale_of, word

_CSS = """
@page { size: A4; margin: 12mm 12mm 14mm 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #111; margin: 0; font-size: 8.5pt; }
header { display: flex; justify-content: space-between; align-items: flex-start; }
h1 { font-size: 13pt; margin: 0 0 0.2em 0; }
h2 { font-size: 9.5pt; margin: 0.9em 0 0.3em 0; border-bottom: 1px solid #888; }
.meta td { padding: 0.05em 0.8em 0.05em 0; border: none; }
.status { font-weight: bold; padding: 0.3em 0.6em; border: 2px solid #111; margin: 0.4em 0; }
.status.provisional { border-color: #b00; color: #b00; }
.note { color: #333; font-style: italic; margin: 0.3em 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.15em 0.35em; text-align: left; }
th { font-weight: bold; background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; border-top: 2px solid #111; }
table.summary { width: 70%; }
.method p { margin: 0.2em 0; }
@media print { tr, .method, .summary { page-break-inside: avoid; } }
""".strip()


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _tariff(line: StatementLine, statement: Statement, locale: Locale) -> str:
    """Which price applied, in words: the external price's start date (local), or the kind."""
    version = line.price_version or ""
    if line.token_class in (TokenClass.GPU_TIME, TokenClass.TRUE_UP):
        return word("pool_cost", locale)
    if line.hosting_class == "on_premise" or version.startswith("onprem:"):
        return word("internal_tariff", locale)
    if line.price_from is not None:
        day = line.price_from.astimezone(statement.tz).date()
        return word("tariff_of", locale, day=locale.short_day(day))
    return ""


def _hosting(code: str, locale: Locale) -> str:
    key = f"hosting_{code}"
    return word(key, locale) if key in WORDS else code


def _quantity(line: StatementLine, locale: Locale) -> str:
    if line.token_class is TokenClass.GPU_TIME and line.quantity is not None:
        return f"{locale.number(line.quantity, 0)} {word('gpu_hours', locale)}"
    if line.consumed_quantity is not None and line.token_class.is_usage:
        return f"{locale.number(line.consumed_quantity, 0)} {word('token_unit', locale)}"
    return ""


def _unit_price(line: StatementLine, locale: Locale) -> str:
    if line.unit_price is None:
        return ""
    per = "per_gpu_hour" if line.token_class is TokenClass.GPU_TIME else "per_million"
    text = f"{locale.number(line.unit_price, 4)}\u00a0€ {word(per, locale)}"
    if line.pricing_unit_price is not None and line.fx_rate is not None:
        converted = word(
            "converted",
            locale,
            price=f"{locale.number(line.pricing_unit_price, 4)}\u00a0{line.pricing_currency}",
            rate=locale.number(line.fx_rate),
        )
        text = f"{text} ({converted})"
    return text


def _description(line: StatementLine, locale: Locale) -> str:
    if line.token_class is TokenClass.CORRECTION:
        return line.description
    what = word(str(line.token_class), locale)
    subject = line.model or line.resource_id or ""
    return f"{what}, {subject}" if subject else what


def _summary(statement: Statement, locale: Locale) -> list[str]:
    rows = []
    for key in ("external", "onprem", "dedicated", "true_up", "corrections"):
        amount = statement.subtotal(key)
        if amount == 0 and key in ("dedicated", "corrections"):
            continue
        rows.append(
            f'<tr><td>{_esc(word(key, locale))}</td><td class="num">'
            f"{_esc(locale.money(amount))}</td></tr>"
        )
    rows.append(
        f'<tr class="total"><td>{_esc(word("total", locale))}</td>'
        f'<td class="num">{_esc(locale.money(statement.total))}</td></tr>'
    )
    if statement.budget is not None and statement.variance is not None:
        for key, amount in (("budget", statement.budget), ("variance", statement.variance)):
            rows.append(
                f"<tr><td>{_esc(word(key, locale))}</td>"
                f'<td class="num">{_esc(locale.money(amount))}</td></tr>'
            )
    return rows


def _method(statement: Statement, pool: TrueUp, locale: Locale) -> list[str]:
    parts = pool.cost_breakdown_eur
    money = locale.money
    gpu_hours = Decimal(pool.gpu_count) * pool.hours
    paragraphs = [
        word(
            "method_pool",
            locale,
            pool=pool.pool,
            gpus=str(pool.gpu_count),
            hours=locale.number(pool.hours, 0),
            gpu_hours=locale.number(gpu_hours, 0),
            cost=money(pool.pool_cost_eur),
            amortisation=money(parts.get("amortisation", ZERO)),
            energy=money(parts.get("energy", ZERO)),
            hosting=money(parts.get("hosting", ZERO)),
            staff=money(parts.get("staff", ZERO)),
        )
    ]
    mine = pool.department(statement.department_id)
    if mine.dedicated_gpus:
        paragraphs.append(
            word(
                "method_dedicated",
                locale,
                gpus=str(mine.dedicated_gpus),
                hours=locale.number(pool.hours, 0),
                amount=money(mine.dedicated_eur),
            )
        )
    paragraphs.append(
        word(
            "method_shared",
            locale,
            shared=money(pool.shared_cost_eur),
            transfers=money(pool.transfer_total_eur),
            difference=money(pool.difference_eur),
        )
    )
    if mine.shares_difference:
        everyone = sum((p.weighted_tokens for p in pool.departments), ZERO)
        share = mine.weighted_tokens / everyone * 100 if everyone else ZERO
        paragraphs.append(
            word(
                "method_share",
                locale,
                weighted=locale.number(mine.weighted_tokens, 0),
                all_weighted=locale.number(everyone, 0),
                share=locale.number(share, 1),
                amount=money(mine.true_up_eur),
            )
        )
    elif pool.unallocated_eur != 0 or not mine.dedicated_gpus:
        paragraphs.append(word("method_unallocated", locale))
    return [f"<p>{_esc(p)}</p>" for p in paragraphs]


_BREAKDOWN_COLUMNS = ("use_case", "model", "hosting", "requests", "tokens", "amount")
_NUMERIC = frozenset({"requests", "tokens", "amount"})


def _th(key: str, locale: Locale) -> str:
    css = ' class="num"' if key in _NUMERIC else ""
    return f"<th{css}>{_esc(word(key, locale))}</th>"


def render_html(statement: Statement, lang: str = "fr") -> str:
    """The statement as a standalone, print-friendly HTML page (every value escaped)."""
    locale = locale_of(lang)
    title = f"{word('title', locale)} {statement.number}"
    closed = statement.status == "closed"
    issued = locale.day(statement.issued_on) if statement.issued_on else ""
    status = word("closed", locale, day=issued) if closed else word("provisional", locale)
    period = word(
        "period_text",
        locale,
        first=locale.day(statement.first_day),
        last=locale.day(statement.last_day),
        tz=statement.tz.key,
    )
    meta = [
        ("issuer", statement.issuer),
        ("number", statement.number),
        ("issued", issued),
        ("department", f"{statement.department_name} ({statement.department_id})"),
        ("cost_centre", statement.cost_centre or word("no_cost_centre", locale)),
        ("period", f"{locale.month(statement.first_day)}, {period}"),
    ]
    meta_rows = "".join(
        f"<tr><td>{_esc(word(key, locale))}</td><td>{_esc(value)}</td></tr>" for key, value in meta
    )
    breakdown = "".join(
        f"<tr><td>{_esc(row.use_case or word('no_use_case', locale))}</td>"
        f"<td>{_esc(row.model)}</td><td>{_esc(_hosting(row.hosting_class, locale))}</td>"
        f'<td class="num">{_esc(locale.number(Decimal(row.requests), 0))}</td>'
        f'<td class="num">{_esc(locale.number(Decimal(row.tokens), 0))}</td>'
        f'<td class="num">{_esc(locale.money(row.amount))}</td></tr>'
        for row in use_case_breakdown(statement)
    )
    lines = "".join(
        f"<tr><td>{_esc(_description(line, locale))}</td>"
        f'<td class="num">{_esc(_quantity(line, locale))}</td>'
        f'<td class="num">{_esc(_unit_price(line, locale))}</td>'
        f'<td class="num">{_esc(locale.money(line.amount))}</td>'
        f'<td title="{_esc(line.price_version or "")}">'
        f"{_esc(_tariff(line, statement, locale))}</td></tr>"
        for line in statement.lines
    )
    method = "".join("".join(_method(statement, pool, locale)) for pool in statement.pools)
    sections = [
        f"<header><div><h1>{_esc(word('title', locale))}</h1>"
        f'<table class="meta">{meta_rows}</table></div></header>',
        f'<div class="status {"closed" if closed else "provisional"}">{_esc(status)}</div>',
        f'<p class="note">{_esc(word("transfer_note", locale))}</p>',
        f"<h2>{_esc(word('summary', locale))}</h2>",
        f'<table class="summary"><tbody>{"".join(_summary(statement, locale))}</tbody></table>',
    ]
    if method:
        sections.append(
            f'<h2>{_esc(word("method", locale))}</h2><div class="method">{method}</div>'
        )
    if breakdown:
        sections.append(
            f"<h2>{_esc(word('by_use_case', locale))}</h2><table><thead><tr>"
            + "".join(_th(key, locale) for key in _BREAKDOWN_COLUMNS)
            + f"</tr></thead><tbody>{breakdown}</tbody></table>"
        )
    sections.append(
        f"<h2>{_esc(word('lines', locale))}</h2><table><thead><tr>"
        f"<th>{_esc(word('description', locale))}</th>"
        f'<th class="num">{_esc(word("quantity", locale))}</th>'
        f'<th class="num">{_esc(word("unit_price", locale))}</th>'
        f'<th class="num">{_esc(word("amount", locale))}</th>'
        f"<th>{_esc(word('tariff', locale))}</th></tr></thead>"
        f"<tbody>{lines}</tbody></table>"
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{locale.lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_esc(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
