"""A usage report as CSV, for finance's spreadsheets."""

from __future__ import annotations

import csv
import io

from billing.reports import COST_COVERS, UsageFigures, UsageReport
from billing.spreadsheet import safe_cell

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


def usage_csv(report: UsageReport) -> str:
    """The report as CSV: one ``bucket`` row per bucket, one ``total`` row, then a ``note`` row
    saying what the cost covers.

    Amounts are exact decimals (six places); empty cells are absent ratios.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    dims = [d.value for d in report.group_by]
    writer.writerow(["row_type", "from", "to", *dims, *_FIGURE_COLUMNS])
    head = [report.period.first.isoformat(), report.period.last.isoformat()]

    def figures(values: UsageFigures) -> list[str]:
        data = values.as_dict()
        return ["" if data[c] is None else str(data[c]) for c in _FIGURE_COLUMNS]

    for bucket in report.buckets:
        cells = [safe_cell(bucket.key[d]) for d in dims]
        writer.writerow(["bucket", *head, *cells, *figures(bucket.figures)])
    writer.writerow(["total", *head, *([""] * len(dims)), *figures(report.total)])
    writer.writerow(["note", *head, *([""] * len(dims)), COST_COVERS])
    return buffer.getvalue()
