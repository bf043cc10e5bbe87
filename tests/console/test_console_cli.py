"""``hygie console link`` and the demo's printed link, through the real command."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from billing import directory
from billing.db.database import make_engine
from billing.db.migrate import upgrade_to_head
from gateway.console.links import link_key, read_token
from gateway.http.local_server import free_port
from tests.console.conftest import hidden

HYGIE = [sys.executable, "-m", "gateway.cli"]


async def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        await directory.create_department(engine, "cardiologie")
        await directory.create_user(engine, "dr.house", department="cardiologie")
    finally:
        await engine.dispose()


def test_link_command_prints_a_signed_single_use_link(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    upgrade_to_head(url)
    asyncio.run(_seed(url))
    env = {
        **os.environ,
        "HYGIE_DATABASE_URL": url,
        "HYGIE_CONSOLE_SECRET": "s3cret-for-links",
        "HYGIE_CONSOLE_PUBLIC_URL": "https://intranet.example/ia/",
    }
    done = subprocess.run(
        [*HYGIE, "console", "link", "--user", "dr.house"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    link = done.stdout.strip()
    assert link.startswith("https://intranet.example/ia/console/sign-in/link?token=")
    key = link_key("s3cret-for-links", None)
    assert key is not None
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert read_token(key, token).username == "dr.house"
    missing = subprocess.run(
        [*HYGIE, "console", "link", "--user", "nobody"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "no user" in missing.stderr


def test_the_demo_prints_a_link_that_opens_the_console() -> None:
    port = free_port()
    demo = subprocess.Popen(
        [*HYGIE, "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        link = ""
        while not link:
            line = demo.stdout.readline()
            assert line, "demo exited early"
            if "/console/sign-in/link?token=" in line:
                link = line.strip()
        with httpx.Client(timeout=10) as client:
            page = _get_when_up(client, link)
            answer = client.post(
                link.split("?")[0], data={"pre": hidden(page.text, "pre"), "token": _token(link)}
            )
            assert answer.status_code == 303
            assert "Secure" not in answer.headers["set-cookie"]  # plain-HTTP demo only
            overview = client.get(f"http://127.0.0.1:{port}/console/overview")
            assert overview.status_code == 200 and "DSN · administrateur" in overview.text
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
        assert demo.stdout is not None
        demo.stdout.close()


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _get_when_up(client: httpx.Client, url: str) -> httpx.Response:
    import time

    deadline = time.monotonic() + 30
    while True:
        try:
            return client.get(url)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
