"""Console page timings over a large ledger in PostgreSQL (run by hand, not by pytest).

    .venv/bin/python -m tests.console.bench_pages 1000000

Generates that many ledger records for this month with one SQL statement, then renders each
page ten times in process (httpx over ASGI, real services) and prints p50 and p95 in ms.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path
from tempfile import mkdtemp
from zoneinfo import ZoneInfo

from sqlalchemy import text

from billing.db.database import make_engine
from billing.db.migrate import upgrade_to_head
from billing.ledger.rollups import rebuild_rollups
from tests.conftest import make_catalog
from tests.console.conftest import open_console
from tests.services import create_postgres_database, drop_postgres_database

PAGES = (
    "overview",
    "finance",
    "ledger",
    "quotas",
    "organisation",
    "models",
    "register",
    "me",
    "audit",
)
FILL = """
INSERT INTO ledger (request_id, started_at, finished_at, endpoint, user_id, department_id,
  use_case, model, deployment, status_code, prompt_tokens, completion_tokens, cached_tokens,
  tokens_estimated, latency_ms, streamed, client_disconnected, attempts, data_class,
  policy_decision, cost_micro_eur)
SELECT 'bench-' || g,
  date_trunc('month', now()) + ((g::bigint * 7919) % greatest(1, extract(epoch from now()
    - date_trunc('month', now()))::int)) * interval '1 second',
  date_trunc('month', now()) + ((g::bigint * 7919) % greatest(1, extract(epoch from now()
    - date_trunc('month', now()))::int)) * interval '1 second' + interval '1 second',
  'chat', 1 + g % 6, 1 + g % 2, 'tests', 'llama-3-8b', 'sim', 200, 100 + g % 50, 50 + g % 30,
  0, false, 120.0, false, false, 1, 'internal', 'allow', 1000 + g % 700
FROM generate_series(1, :rows) AS g
"""


async def fill(url: str, rows: int) -> float:
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        async with engine.begin() as connection:
            await connection.execute(text(FILL), {"rows": rows})
            await connection.execute(text("ANALYZE ledger"))
        # Records written by SQL bypass the rollups the pages read: build them as an upgrade would.
        await rebuild_rollups(engine, ZoneInfo("Europe/Paris"))
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE ledger_daily"))
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def measure(url: str, rows: int) -> None:
    spool = Path(mkdtemp()) / "spool"
    async with open_console(url, make_catalog("http://127.0.0.1:9/v1"), spool) as console:
        print(f"generated {rows} records in {await fill(url, rows):.1f} s")
        client = await console.sign_in("ada")
        for page in PAGES:
            timings = []
            for _ in range(10):
                started = time.perf_counter()
                answer = await client.get(f"/console/{page}")
                timings.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            print(f"{page:14} p50 {statistics.median(timings):8.1f} ms   p95 {p95:8.1f} ms")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    url, name = create_postgres_database()
    try:
        upgrade_to_head(url)
        asyncio.run(measure(url, rows))
    finally:
        drop_postgres_database(name)


if __name__ == "__main__":
    main()
