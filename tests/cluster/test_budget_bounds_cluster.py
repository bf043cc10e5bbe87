"""Two gateways sharing Redis and PostgreSQL never let calls with many outputs overspend.

Each call below generates several outputs (``n`` choices, several prompts, token-id prompts):
held as one output, the last ones admitted near the limit overspent it in every run.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.cluster.conftest import ADMIN, Cluster, wait_for_limits, wait_in_sync
from tests.conftest import CHAT_MODEL

pytestmark = pytest.mark.slow  # real gateway processes, PostgreSQL and Redis

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Liste les examens d'un bilan pré-opératoire."}
]
BUDGET_EUR = Decimal("2")  # 1,000 EUR per million tokens: 2,000 tokens
BUDGET_TOKENS = 1500


def one_call(client: openai.OpenAI, kind: int) -> None:
    sampling: dict[str, Any] = {"extra_body": {"ignore_eos": True}}
    if kind == 0:
        client.chat.completions.create(
            model=CHAT_MODEL, messages=MESSAGES, n=8, max_tokens=20, **sampling
        )
    elif kind == 1:
        prompts = ["Bilan pré-opératoire :", "Examens :", "Dossier :"]
        client.completions.create(model=CHAT_MODEL, prompt=prompts, n=2, max_tokens=5, **sampling)
    elif kind == 2:
        client.completions.create(
            model=CHAT_MODEL, prompt=[[21] * 200, [22] * 200], max_tokens=4, **sampling
        )
    else:
        stream = client.chat.completions.create(
            model=CHAT_MODEL, messages=MESSAGES, n=4, max_tokens=16, stream=True, **sampling
        )
        for _ in stream:
            pass


def until_refused(url: str, key: str, worker: int) -> tuple[int, int]:
    """Send calls until a budget refuses (at most 20); return (served, refused)."""
    served = 0
    with openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0) as client:
        for i in range(20):
            try:
                one_call(client, (worker + i) % 4)
                served += 1
            except openai.RateLimitError as error:
                assert isinstance(error.body, dict) and error.body["code"] == "insufficient_quota"
                return served, 1
    return served, 0


def test_many_output_calls_never_overspend_across_two_gateways(
    start_cluster: Callable[[int], Cluster],
) -> None:
    cluster = start_cluster(2)
    a, b = cluster.gateways
    for spec in (
        {"level": "department", "department": "cardiologie", "budget_eur": str(BUDGET_EUR)},
        {"level": "user", "username": "dr.test", "budget_tokens": BUDGET_TOKENS},
    ):
        httpx.put(
            f"{a.url}/admin/quotas", headers=ADMIN, json={**spec, "period": "day"}
        ).raise_for_status()
    wait_for_limits(cluster, {"department": "budget_eur", "user": "budget_tokens"})

    urls = [a.url, b.url]
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda w: until_refused(urls[w % 2], cluster.key, w), range(6)))
    assert sum(served for served, _ in outcomes) > 0
    assert all(refused for _, refused in outcomes)  # every worker reached a budget

    reconcile = wait_in_sync(a.url)  # once both ledger writers have flushed
    ledger = {row["node_id"].split(":")[0]: row for row in reconcile["data"]}
    assert Decimal(ledger["department"]["ledger_micro_eur"]) <= BUDGET_EUR * 1_000_000
    assert ledger["user"]["ledger_tokens"] <= BUDGET_TOKENS
    rows = httpx.get(f"{b.url}/admin/quotas", headers=ADMIN).json()["data"]
    by_level = {row["level"]: row for row in rows}
    assert Decimal(by_level["department"]["spent_eur"]) <= BUDGET_EUR
    assert by_level["user"]["spent_tokens"] <= BUDGET_TOKENS
