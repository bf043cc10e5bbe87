from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

import pytest

from policies.policy_file import PolicyError
from policies.reload import PolicyHolder, ReloadOutcome

ALLOW_ALL = b"name: v1\nrules:\n  - name: allow-all\n    action: allow\n"
DENY_ALL = b"name: v2\nrules:\n  - name: deny-all\n    action: deny\n"
BROKEN = b"name: v3\nrules:\n  - name: typo\n    action: alow\n"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write(path: Path, content: bytes, *, bump_mtime: int = 0) -> None:
    path.write_bytes(content)
    if bump_mtime:
        # Make the change visible even on file systems with a coarse mtime.
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump_mtime * 1_000_000_000))


def make_holder(tmp_path: Path, content: bytes = ALLOW_ALL) -> tuple[PolicyHolder, Path, FakeClock]:
    path = tmp_path / "policy.yaml"
    write(path, content)
    clock = FakeClock()
    return PolicyHolder(path, check_every_s=5.0, clock=clock), path, clock


def test_the_file_is_checked_at_most_every_interval(tmp_path: Path) -> None:
    holder, path, clock = make_holder(tmp_path)
    first = holder.engine.version
    write(path, DENY_ALL, bump_mtime=1)

    clock.now += 4.9
    assert holder.refresh() is ReloadOutcome.NOT_DUE
    assert holder.engine.version == first

    clock.now += 0.2
    assert holder.refresh() is ReloadOutcome.RELOADED
    assert holder.engine.version != first
    assert holder.engine.policy.document.name == "v2"

    clock.now += 5
    assert holder.refresh() is ReloadOutcome.UNCHANGED


def test_force_checks_now(tmp_path: Path) -> None:
    holder, path, _ = make_holder(tmp_path)
    write(path, DENY_ALL, bump_mtime=1)

    assert holder.refresh(force=True) is ReloadOutcome.RELOADED


def test_rewriting_the_same_content_keeps_the_same_version(tmp_path: Path) -> None:
    holder, path, clock = make_holder(tmp_path)
    engine = holder.engine
    write(path, ALLOW_ALL, bump_mtime=2)

    clock.now += 10
    assert holder.refresh() is ReloadOutcome.UNCHANGED
    assert holder.engine is engine


def test_a_broken_file_is_rejected_and_the_previous_policy_stays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder, path, clock = make_holder(tmp_path)
    good = holder.engine
    write(path, BROKEN, bump_mtime=1)

    clock.now += 10
    with caplog.at_level(logging.ERROR, logger="policies.reload"):
        assert holder.refresh() is ReloadOutcome.REJECTED
    assert holder.engine is good
    assert holder.last_error is not None
    assert "rules[0] 'typo'.action" in holder.last_error
    assert len(caplog.records) == 1
    assert good.version in caplog.records[0].getMessage()

    clock.now += 10
    assert holder.refresh() is ReloadOutcome.UNCHANGED  # reported once, not on every check
    assert holder.engine is good

    write(path, DENY_ALL, bump_mtime=2)
    clock.now += 10
    assert holder.refresh() is ReloadOutcome.RELOADED
    assert holder.last_error is None
    assert holder.engine.policy.document.name == "v2"


def test_a_missing_file_keeps_the_previous_policy(tmp_path: Path) -> None:
    holder, path, clock = make_holder(tmp_path)
    good = holder.engine
    path.unlink()

    clock.now += 10
    assert holder.refresh() is ReloadOutcome.REJECTED
    assert holder.engine is good
    assert holder.last_error is not None
    assert "cannot read policy file" in holder.last_error


def test_a_symlink_swap_is_noticed(tmp_path: Path) -> None:
    # Kubernetes mounts a ConfigMap through a symlink that is atomically repointed.
    (tmp_path / "a.yaml").write_bytes(ALLOW_ALL)
    (tmp_path / "b.yaml").write_bytes(DENY_ALL)
    link = tmp_path / "policy.yaml"
    link.symlink_to(tmp_path / "a.yaml")
    clock = FakeClock()
    holder = PolicyHolder(link, clock=clock)

    (tmp_path / "next").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "next").replace(link)
    clock.now += 10

    assert holder.refresh() is ReloadOutcome.RELOADED
    assert holder.engine.policy.document.name == "v2"


def test_a_gateway_does_not_start_with_a_bad_policy(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, BROKEN)

    with pytest.raises(PolicyError, match="action"):
        PolicyHolder(path)


def test_the_watch_task_picks_up_a_change(tmp_path: Path) -> None:
    holder, path, _ = make_holder(tmp_path)

    async def scenario() -> str:
        task = asyncio.create_task(holder.watch(interval_s=0.01))
        write(path, DENY_ALL, bump_mtime=1)
        for _ in range(200):
            await asyncio.sleep(0.01)
            if holder.engine.policy.document.name == "v2":
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return holder.engine.policy.document.name

    assert asyncio.run(scenario()) == "v2"
