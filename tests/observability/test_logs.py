"""Logs are one JSON object per line with the request id, and never show a credential."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from uvicorn.config import LOGGING_CONFIG

from gateway.observability.logs import (
    HygieLogHandler,
    InvalidLogLevel,
    bind_request_id,
    configure_logging,
    current_request_id,
    redact,
    reset_request_id,
    set_request_id,
)

API_KEY = "hyg_sk_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWpr"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")

log = logging.getLogger("hygie.test")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the root and uvicorn loggers back as they were: logging is process-wide."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved = {
        name: (list(lg.handlers), lg.propagate, lg.disabled, lg.level)
        for name in UVICORN_LOGGERS
        for lg in [logging.getLogger(name)]
    }
    yield
    for handler in root.handlers:
        if isinstance(handler, HygieLogHandler) and handler not in saved_root[0]:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(saved_root[1])
    for name, (handlers, propagate, disabled, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate, logger.disabled = propagate, disabled
        logger.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_the_request_id() -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)

    log.debug("below the level")
    with bind_request_id("req_42"):
        log.info("forwarded to %s after %d attempts", "vllm-a", 2)
    log.warning("outside any request")

    first, second = json_lines(stream)
    assert set(first) == {"ts", "level", "logger", "message", "request_id"}
    assert first["level"] == "INFO" and first["logger"] == "hygie.test"
    assert first["message"] == "forwarded to vllm-a after 2 attempts"
    assert first["request_id"] == "req_42"
    assert datetime.fromisoformat(first["ts"]).utcoffset() is not None
    assert second["request_id"] is None and second["level"] == "WARNING"


def test_exceptions_are_included_as_text() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)

    try:
        raise ConnectionResetError("replica went away")
    except ConnectionResetError:
        log.exception("stream broke")

    [line] = json_lines(stream)
    assert line["message"] == "stream broke"
    assert "Traceback" in line["exc_info"]
    assert "ConnectionResetError: replica went away" in line["exc_info"]


@pytest.mark.parametrize(
    "message",
    [
        f"key {API_KEY} was rejected",
        "header Authorization: Bearer eyJhbGciOi.payload.sig-_x",
        "headers {'authorization': 'Basic dXNlcjpwYXNz', 'x-request-id': 'r1'}",
        "token=bearer abc/def+ghi==",
    ],
)
def test_credentials_are_masked_in_json_lines(message: str) -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)

    log.info(message)

    [line] = json_lines(stream)
    for secret in (API_KEY, "eyJhbGciOi", "dXNlcjpwYXNz", "abc/def"):
        assert secret not in line["message"]
    assert "***" in line["message"]


def test_credentials_are_masked_in_arguments_tracebacks_and_text_lines() -> None:
    stream = io.StringIO()
    configure_logging("text", "info", stream=stream)

    with bind_request_id("req_7"):
        log.info("client sent %s", {"Authorization": f"Bearer {API_KEY}"})
        try:
            raise PermissionError(f"invalid key {API_KEY}")
        except PermissionError:
            log.exception("authentication failed")

    text = stream.getvalue()
    assert API_KEY not in text and "hyg_sk_Zm9v" not in text
    assert "[req_7]" in text and "client sent" in text
    assert "PermissionError: invalid key hyg_sk_***" in text


def test_bodies_passed_as_extra_fields_are_not_written() -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)

    log.info("request received", extra={"body": {"messages": ["NIR 1 84 12 75 123 456 78"]}})

    [line] = json_lines(stream)
    assert "body" not in line and "NIR" not in stream.getvalue()


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "model llama-3-8b answered 200 in 812 ms after 2 attempts; key_id=key_0123"
    assert redact(text) == text


def test_concurrent_requests_keep_their_own_ids() -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)

    async def handle(request_id: str) -> None:
        with bind_request_id(request_id):
            for step in range(3):
                log.info("step %d", step)
                await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(handle("req_a"), handle("req_b"))

    asyncio.run(main())

    lines = json_lines(stream)
    assert len(lines) == 6
    assert [line["request_id"] for line in lines] == ["req_a", "req_b"] * 3


def test_token_api_restores_the_previous_id() -> None:
    outer = set_request_id("req_outer")
    inner = set_request_id("req_inner")
    assert current_request_id() == "req_inner"
    reset_request_id(inner)
    assert current_request_id() == "req_outer"
    reset_request_id(outer)
    assert current_request_id() is None


def test_uvicorn_speaks_through_the_same_handler_and_its_access_log_is_off() -> None:
    logging.config.dictConfig(LOGGING_CONFIG)  # what uvicorn installs with its default config
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)

    logging.getLogger("uvicorn.error").info("Application startup complete.")
    logging.getLogger("uvicorn.access").info('%s - "%s %s" %d', "10.0.0.1", "POST", "/v1/x", 200)

    [line] = json_lines(stream)
    assert line["logger"] == "uvicorn.error"
    assert line["message"] == "Application startup complete."


def test_configuring_twice_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("json", "info", stream=first)
    configure_logging("json", "warning", stream=second)

    log.info("dropped by level")
    log.warning("kept")

    assert first.getvalue() == ""
    assert [line["message"] for line in json_lines(second)] == ["kept"]
    ours = [h for h in logging.getLogger().handlers if isinstance(h, HygieLogHandler)]
    assert len(ours) == 1


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(InvalidLogLevel):
        configure_logging("json", "verbose", stream=io.StringIO())
