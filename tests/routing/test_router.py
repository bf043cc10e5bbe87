"""Retries and fallback groups: in order, recorded in Attempts, never outside the given set."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import orjson
import pytest

from gateway.catalog import Catalog
from gateway.errors import UpstreamRejected
from gateway.http.local_server import BackgroundServer
from gateway.routing.replicas import Replica
from gateway.routing.router import Attempts, Router
from tests.routing.factories import (
    catalog_of,
    chat,
    chat_requests,
    make_router,
    replica_at,
    sim_config,
    simulators,
)

pytestmark = pytest.mark.anyio

Servers = dict[str, BackgroundServer]
FAILING = sim_config(faults={"http_503": 1.0})


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    names = ("bad1", "bad2", "bad3", "bad4", "outside", "backup")
    configs = [FAILING] * 4 + [sim_config(), sim_config()]
    with simulators(*configs) as running:
        yield dict(zip(names, running, strict=True))


def catalog(s: Servers) -> Catalog:
    return catalog_of(
        {
            "llama-3-8b": {"onprem": [s["bad1"], s["bad2"], s["bad4"]], "cloud": [s["outside"]]},
            "qwen-7b": {"qwen": [s["bad3"]]},
            "mistral-7b": {"backup": [s["backup"]]},
        }
    )


def group(router: Router, s: Servers, *names: str) -> list[Replica]:
    return [replica_at(router, s[name]) for name in names]


async def counts(session: aiohttp.ClientSession, s: Servers) -> dict[str, int]:
    return {name: await chat_requests(session, server) for name, server in s.items()}


async def test_groups_are_tried_in_order_and_the_set_is_never_left(
    session: aiohttp.ClientSession, servers: Servers
) -> None:
    router = make_router(catalog(servers), session)
    before = await counts(session, servers)
    attempts = Attempts()
    reply, replica = await router.complete(
        chat(),
        group(router, servers, "bad1", "bad2"),
        attempts,
        fallbacks=[group(router, servers, "bad3"), group(router, servers, "backup")],
    )
    assert reply.status == 200 and orjson.loads(reply.body)["model"] == "mistral-7b"
    assert replica is replica_at(router, servers["backup"])
    assert set(attempts.tried[:2]) == {r.label for r in group(router, servers, "bad1", "bad2")}
    assert attempts.tried[2:] == [r.label for r in group(router, servers, "bad3", "backup")]
    assert len(attempts.failures) == 3 and all("HTTP 503" in f for f in attempts.failures)
    assert attempts.fallback_model == "mistral-7b"
    after = await counts(session, servers)
    sent = {name: after[name] - before[name] for name in after}
    assert sent == {"bad1": 1, "bad2": 1, "bad3": 1, "bad4": 0, "outside": 0, "backup": 1}


async def test_stream_falls_back_and_names_the_model_that_answered(
    session: aiohttp.ClientSession, servers: Servers
) -> None:
    router = make_router(catalog(servers), session)
    before = await counts(session, servers)
    attempts = Attempts()
    response, replica = await router.open_stream(
        chat(stream=True),
        group(router, servers, "bad1"),
        attempts,
        fallbacks=[group(router, servers, "backup")],
    )
    try:
        first = await anext(response.chunks())
        event = first.split(b"\n", 1)[0].removeprefix(b"data: ")
        assert orjson.loads(event)["model"] == "mistral-7b"
        assert replica.in_flight == 1
    finally:
        response.release()
        router.stream_finished(replica)
    assert replica.in_flight == 0 and attempts.fallback_model == "mistral-7b"
    after = await counts(session, servers)
    assert after["outside"] == before["outside"] and after["bad2"] == before["bad2"]


async def test_fallbacks_are_untouched_while_the_first_group_answers(
    session: aiohttp.ClientSession, servers: Servers
) -> None:
    router = make_router(catalog(servers), session)
    before = await counts(session, servers)
    attempts = Attempts()
    reply, _ = await router.complete(
        chat(),
        group(router, servers, "outside"),
        attempts,
        fallbacks=[group(router, servers, "backup")],
    )
    assert reply.status == 200 and orjson.loads(reply.body)["model"] == "llama-3-8b"
    assert attempts.count == 1 and attempts.fallback_model is None
    assert (await counts(session, servers))["backup"] == before["backup"]


async def test_a_rejected_request_is_not_retried_nor_sent_to_a_fallback(
    session: aiohttp.ClientSession, servers: Servers
) -> None:
    router = make_router(catalog(servers), session)
    before = await counts(session, servers)
    too_long = chat(max_tokens=10_000)
    attempts = Attempts()
    reply, _ = await router.complete(
        too_long,
        group(router, servers, "outside"),
        attempts,
        fallbacks=[group(router, servers, "backup")],
    )
    assert reply.status == 400 and attempts.count == 1
    with pytest.raises(UpstreamRejected):
        await router.open_stream(
            chat(stream=True, max_tokens=10_000),
            group(router, servers, "outside"),
            Attempts(),
            fallbacks=[group(router, servers, "backup")],
        )
    assert (await counts(session, servers))["backup"] == before["backup"]


async def test_max_attempts_bound_each_group(
    session: aiohttp.ClientSession, servers: Servers
) -> None:
    router = make_router(catalog(servers), session, max_attempts=2)
    attempts = Attempts()
    await router.complete(
        chat(),
        group(router, servers, "bad1", "bad2", "bad4"),
        attempts,
        fallbacks=[group(router, servers, "backup")],
    )
    assert attempts.count == 3 and attempts.tried[-1] == replica_at(router, servers["backup"]).label
