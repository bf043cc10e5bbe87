"""The department's limits are a ceiling a department admin can lower, never raise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.limits.ceiling import FIGURES, over_department, raised
from billing.periods import PeriodKind
from billing.quotas import FailMode, FailPolicy, Level, NodeLimits

DEPT = NodeLimits(
    "department:1",
    Level.DEPARTMENT,
    budget_micro_eur=100_000_000,
    period=PeriodKind.MONTH,
    rpm=60,
)

figures = st.one_of(st.none(), st.integers(min_value=1, max_value=10**12))


def _limits(
    node_id: str, level: Level, values: dict[str, int | None], **extra: object
) -> NodeLimits:
    return NodeLimits(node_id, level, period=PeriodKind.MONTH, **values, **extra)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({field: figures for field in FIGURES}))
def test_inside_the_department_nothing_exceeds_the_department(
    values: dict[str, int | None],
) -> None:
    proposed = _limits("user:7", Level.USER, values)
    over = over_department(proposed, DEPT)
    expected = [
        name
        for field, name in FIGURES.items()
        if getattr(DEPT, field) is not None
        and values[field] is not None
        and values[field] > getattr(DEPT, field)
    ]
    assert over == expected
    assert over_department(proposed, None) == []  # no ceiling set: nothing to exceed


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({field: figures for field in FIGURES}))
def test_the_department_node_may_only_go_down(values: dict[str, int | None]) -> None:
    proposed = _limits("department:1", Level.DEPARTMENT, values)
    loosened = raised(proposed, DEPT)
    lowered_only = all(
        getattr(DEPT, field) is None
        or (values[field] is not None and values[field] <= getattr(DEPT, field))
        for field in FIGURES
    )
    assert (loosened == []) == lowered_only
    assert raised(proposed, None) == []  # a first limit is always a lowering


def test_a_wider_window_or_an_open_budget_is_a_raise() -> None:
    daily = NodeLimits(
        "department:1",
        Level.DEPARTMENT,
        budget_micro_eur=100_000_000,
        period=PeriodKind.DAY,
        rpm=60,
    )
    assert raised(daily, DEPT) == ["period"]
    opened = NodeLimits(
        "department:1",
        Level.DEPARTMENT,
        budget_micro_eur=100_000_000,
        period=PeriodKind.MONTH,
        rpm=60,
        fail_policy=FailPolicy(budget_eur=FailMode.OPEN, budget_tokens=FailMode.OPEN),
    )
    assert raised(opened, DEPT) == ["budget_fail_mode"]
    stricter = NodeLimits(
        "department:1",
        Level.DEPARTMENT,
        budget_micro_eur=1,
        period=PeriodKind.MONTH,
        rpm=1,
        fail_policy=FailPolicy(rpm=FailMode.CLOSED, tpm=FailMode.CLOSED),
    )
    assert raised(stricter, DEPT) == []
