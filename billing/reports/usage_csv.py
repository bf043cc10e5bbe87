"""A usage report as CSV, for finance's spreadsheets."""

from __future__ import annotations

import csv
import io

from billing.reports.chargeback import BOM
from billing.reports.report import COST_COVERS, UsageFigures, UsageReport
from billing.reports.spreadsheet import safe_cell
from billing.reports.statement_locale import locale_of

_FIGURE_COLUMNS = (
    "requests",
    "failed_requests",
    "unpriced_requests",
    "prompt_tokens",
    "cached_tokens",
    "completion_tokens",
    "active_users",
    "cost_eur",
    "cost_per_request_eur",
    "cost_per_active_user_eur",
)


def usage_csv(report: UsageReport, lang: str | None = None) -> str:
    """The report as CSV: one ``bucket`` row per bucket, one ``total`` row, then a ``note`` row
    saying what the cost covers.

    Amounts are exact decimals (six places); empty cells are absent ratios. Without ``lang``
    the file is plain RFC 4180 (``,`` and a decimal point, for tools); with ``lang="fr"`` it
    uses ``;`` and a decimal comma and starts with a UTF-8 BOM, so French Excel opens it in
    columns (``"en"``: the BOM only).
    """
    buffer = io.StringIO()
    locale = None if lang is None else locale_of(lang)
    if locale is not None:
        buffer.write(BOM)
    delimiter = "," if locale is None else locale.csv_delimiter
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    dims = [d.value for d in report.group_by]
    writer.writerow(["row_type", "from", "to", *dims, *_FIGURE_COLUMNS])
    head = [report.period.first.isoformat(), report.period.last.isoformat()]

    def cell(value: object) -> str:
        if value is None:
            return ""
        if locale is not None and isinstance(value, str) and value.count(".") == 1:
            return value.replace(".", locale.decimal)
        return str(value)

    def figures(values: UsageFigures) -> list[str]:
        data = values.as_dict()
        return [cell(data[c]) for c in _FIGURE_COLUMNS]

    for bucket in report.buckets:
        cells = [safe_cell(bucket.key[d]) for d in dims]
        writer.writerow(["bucket", *head, *cells, *figures(bucket.figures)])
    writer.writerow(["total", *head, *([""] * len(dims)), *figures(report.total)])
    writer.writerow(["note", *head, *([""] * len(dims)), COST_COVERS])
    return buffer.getvalue()
