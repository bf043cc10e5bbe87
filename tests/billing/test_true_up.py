"""Month-end true-up: hand-worked months, DST months, and reconciliation to the cent."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.money import CENT, to_cents
from billing.periods import month_period
from billing.pricing.gpu_cost import GpuPool
from billing.pricing.true_up import DepartmentUsage, InvalidTrueUp, TrueUpMode, true_up
from billing.reports.rows import TokenClass

PARIS = ZoneInfo("Europe/Paris")


def make_pool(*, gpu_count: int = 8, hardware_eur: str = "350640") -> GpuPool:
    # 2.30 EUR per GPU-hour with the defaults (see test_gpu_cost.test_cost_per_gpu_hour_by_hand).
    return GpuPool(
        name="h100-a",
        gpu_count=gpu_count,
        hardware_eur=Decimal(hardware_eur) * gpu_count / 8,
        amortisation_years=Decimal(5),
        watts_per_gpu=Decimal(1000),
        pue=Decimal("1.5"),
        eur_per_kwh=Decimal("0.20"),
        hosting_eur_per_month=Decimal("1753.20") * gpu_count / 8,
        staff_eur_per_month=Decimal("4090.80") * gpu_count / 8,
    )


def make_usage(dept: str, weighted_tokens: str, transfer: str) -> DepartmentUsage:
    return DepartmentUsage(dept, Decimal(weighted_tokens), Decimal(transfer))


def test_month_with_two_departments_and_idle_capacity_by_hand() -> None:
    # January 2026 in Paris: 744 hours. 8 GPUs at 2.30 EUR/GPU-h:
    #   pool cost  = 8 x 744 x 2.30                  = 13,689.60
    #   radiologie has 2 dedicated GPUs: 2/8 of it   =  3,422.40 (charged whole, used or not)
    #   shared     = 13,689.60 - 3,422.40             = 10,267.20 (6 GPUs)
    # Transfer charges at 2.30 / (3600 x 2000 x 0.5) EUR per weighted token:
    #   cardiologie 4.5e9 weighted tokens -> 2,875.00
    #   urgences    2.7e9 weighted tokens -> 1,725.00         transfers = 4,600.00
    # Idle capacity: 10,267.20 - 4,600.00 = 5,667.20, shared 4.5 : 2.7 = 5 : 3
    #   cardiologie 5/8 x 5,667.20 = 3,542.00 -> total 6,417.00
    #   urgences    3/8 x 5,667.20 = 2,125.20 -> total 3,850.20
    # Check: 6,417.00 + 3,850.20 + 3,422.40 = 13,689.60
    result = true_up(
        make_pool(),
        month_period(2026, 1, PARIS),
        [
            make_usage("cardiologie", "4500000000", "2875.00"),
            make_usage("urgences", "2700000000", "1725.00"),
        ],
        dedicated={"radiologie": 2},
        mode=TrueUpMode.SHARE,
    )
    assert result.hours == 744
    assert result.pool_cost_eur == Decimal("13689.60")
    assert result.shared_cost_eur == Decimal("10267.20")
    assert result.transfer_total_eur == Decimal("4600.00")
    assert result.difference_eur == Decimal("5667.20")
    cardio = result.department("cardiologie")
    urgences = result.department("urgences")
    radio = result.department("radiologie")
    assert cardio.true_up_eur == Decimal("3542.00")
    assert cardio.total_eur == Decimal("6417.00")
    assert urgences.true_up_eur == Decimal("2125.20")
    assert urgences.total_eur == Decimal("3850.20")
    assert radio.dedicated_eur == Decimal("3422.40")
    assert radio.true_up_eur == 0
    assert result.unallocated_eur == 0
    assert result.allocated_total_eur == result.pool_cost_eur

    lines = result.charge_lines({"cardiologie": "Cardiologie"}, provider="CHU Exemple")
    by_class = [(ln.department_id, ln.token_class, ln.amount) for ln in lines]
    assert by_class == [
        ("cardiologie", TokenClass.TRUE_UP, Decimal("3542.00")),
        ("radiologie", TokenClass.GPU_TIME, Decimal("3422.40")),
        ("urgences", TokenClass.TRUE_UP, Decimal("2125.20")),
    ]
    gpu_line = lines[1]
    assert gpu_line.quantity == 2 * 744
    assert gpu_line.unit_price == Decimal("2.30")
    assert lines[0].department_name == "Cardiologie"
    assert lines[2].department_name == "urgences"


def test_same_month_reported_as_unallocated_capacity() -> None:
    result = true_up(
        make_pool(),
        month_period(2026, 1, PARIS),
        [
            make_usage("cardiologie", "4500000000", "2875.00"),
            make_usage("urgences", "2700000000", "1725.00"),
        ],
        dedicated={"radiologie": 2},
        mode=TrueUpMode.UNALLOCATED,
    )
    assert result.unallocated_eur == Decimal("5667.20")
    assert all(d.true_up_eur == 0 for d in result.departments)
    lines = result.charge_lines(provider="CHU Exemple")
    unallocated = [ln for ln in lines if ln.department_id is None]
    assert len(unallocated) == 1
    assert unallocated[0].amount == Decimal("5667.20")
    assert unallocated[0].token_class is TokenClass.TRUE_UP
    assert sum(d.total_eur for d in result.departments) + result.unallocated_eur == Decimal(
        "13689.60"
    )


def test_over_recovered_capacity_is_refunded_in_proportion() -> None:
    # 2 GPUs in February 2026 (672 h): 2 x 672 x 2.30 = 3,091.20; transfers 4,000.00 in all.
    result = true_up(
        make_pool(gpu_count=2),
        month_period(2026, 2, PARIS),
        [make_usage("a", "1", "1000.00"), make_usage("b", "2", "3000.00")],
    )
    assert result.pool_cost_eur == Decimal("3091.20")
    assert result.difference_eur == Decimal("-908.80")
    # -908.80 split 1 : 2 = -302.9333 / -605.8667: the larger remainder takes the odd cent.
    assert result.department("a").true_up_eur == Decimal("-302.93")
    assert result.department("b").true_up_eur == Decimal("-605.87")
    assert result.allocated_total_eur == Decimal("3091.20")


@pytest.mark.parametrize(("month", "hours", "cost"), [(3, 743, "13671.20"), (10, 745, "13708.00")])
def test_months_with_a_dst_change(month: int, hours: int, cost: str) -> None:
    # Paris springs forward on 29 March 2026 and falls back on 25 October 2026.
    period = month_period(2026, month, PARIS)
    result = true_up(make_pool(), period, [make_usage("cardiologie", "10", "100.00")])
    assert result.hours == hours
    assert result.pool_cost_eur == Decimal(cost)  # 8 x hours x 2.30
    assert result.department("cardiologie").total_eur == Decimal(cost)


def test_no_usage_at_all_is_reported_as_unallocated_even_when_sharing() -> None:
    result = true_up(
        make_pool(),
        month_period(2026, 1, PARIS),
        [make_usage("a", "0", "0"), make_usage("b", "0", "0")],
        mode=TrueUpMode.SHARE,
    )
    assert result.unallocated_eur == Decimal("13689.60")
    assert all(not d.shares_difference for d in result.departments)
    assert result.allocated_total_eur == result.pool_cost_eur


def test_inconsistent_inputs_are_rejected() -> None:
    period = month_period(2026, 1, PARIS)
    with pytest.raises(InvalidTrueUp):
        true_up(make_pool(), period, [], dedicated={"a": 9})
    with pytest.raises(InvalidTrueUp):
        true_up(make_pool(), period, [make_usage("a", "1", "0"), make_usage("a", "2", "0")])
    with pytest.raises(InvalidTrueUp):
        make_usage("a", "-1", "0")


amounts = st.decimals(
    min_value=0, max_value=100_000, places=6, allow_nan=False, allow_infinity=False
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[GpuPool, int, int, dict[str, int], list[DepartmentUsage]]:
    gpu_count = draw(st.integers(min_value=1, max_value=16))
    pool = GpuPool(
        name="p",
        gpu_count=gpu_count,
        hardware_eur=draw(amounts),
        amortisation_years=draw(st.decimals(min_value="0.5", max_value=10, places=2)),
        watts_per_gpu=draw(st.decimals(min_value=0, max_value=2000, places=1)),
        pue=draw(st.decimals(min_value=1, max_value=3, places=2)),
        eur_per_kwh=draw(st.decimals(min_value=0, max_value=1, places=4)),
        hosting_eur_per_month=draw(amounts),
        staff_eur_per_month=draw(amounts),
    )
    year = draw(st.integers(min_value=2024, max_value=2028))
    month = draw(st.integers(min_value=1, max_value=12))
    departments = [f"d{i}" for i in range(draw(st.integers(min_value=0, max_value=8)))]
    dedicated: dict[str, int] = {}
    free = gpu_count
    for dept in draw(st.lists(st.sampled_from(departments), unique=True)) if departments else []:
        gpus = draw(st.integers(min_value=0, max_value=free))
        dedicated[dept] = gpus
        free -= gpus
    weighted = st.one_of(st.just(Decimal(0)), st.decimals(min_value=0, max_value=10**12, places=0))
    usage = (
        [
            DepartmentUsage(dept, draw(weighted), draw(amounts))
            for dept in draw(st.lists(st.sampled_from(departments), unique=True))
        ]
        if departments
        else []
    )
    return pool, year, month, dedicated, usage


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios(), mode=st.sampled_from(TrueUpMode))
def test_allocations_always_sum_to_the_pool_cost(
    scenario: tuple[GpuPool, int, int, dict[str, int], list[DepartmentUsage]],
    mode: TrueUpMode,
) -> None:
    pool, year, month, dedicated, usage = scenario
    period = month_period(year, month, PARIS)
    result = true_up(pool, period, usage, dedicated=dedicated, mode=mode)

    assert result.pool_cost_eur == to_cents(pool.cost_of(period))
    assert result.allocated_total_eur == result.pool_cost_eur
    lines = result.charge_lines(provider="CHU")
    transfers = sum((to_cents(u.transfer_charges_eur) for u in usage), Decimal(0))
    assert sum((ln.amount for ln in lines), Decimal(0)) + transfers == result.pool_cost_eur
    for part in result.departments:
        for amount in (part.dedicated_eur, part.transfer_eur, part.true_up_eur):
            assert amount == amount.quantize(CENT)
    if result.difference_eur and mode is TrueUpMode.SHARE and any(u.weighted_tokens for u in usage):
        total_weight = sum(u.weighted_tokens for u in usage)
        for u in usage:
            exact = result.difference_eur * u.weighted_tokens / total_weight
            assert abs(result.department(u.department_id).true_up_eur - exact) < CENT
