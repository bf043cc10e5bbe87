"""Process logging: one JSON object per line (or plain text), with the current request's id.

:func:`configure_logging` installs one handler on the root logger. Every line it writes goes
through :func:`redact` first, so an API key (``hyg_sk_...``), a bearer credential or an
``Authorization`` value that slips into a message or a traceback is masked. Request and response
bodies are never logged by the gateway; the JSON lines carry a fixed set of fields and nothing
passed through ``extra=``, so a body handed to a logger by mistake does not reach the output.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Literal, TextIO

import orjson

LogFormat = Literal["json", "text"]

# A context variable is the one per-request value logging can see without every call passing
# it: each asyncio task gets its own copy, so concurrent requests never see each other's id.
_REQUEST_ID: ContextVar[str | None] = ContextVar("hygie_request_id", default=None)

MASK = "***"
# Order matters: an "Authorization: Bearer x" value is masked whole before the bearer rule runs.
_SECRETS = (
    (re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,;}]+"), rf"\g<1>{MASK}"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), f"Bearer {MASK}"),
    (re.compile(r"hyg_sk_[A-Za-z0-9_-]*"), f"hyg_sk_{MASK}"),
)

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id_text)s] %(message)s"
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error")
_ACCESS_LOGGER = "uvicorn.access"


class InvalidLogLevel(ValueError):
    """The configured log level is not one of Python's level names."""


def redact(text: str) -> str:
    """``text`` with API keys, bearer credentials and ``Authorization`` values masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def current_request_id() -> str | None:
    """The id of the request this code runs for, if any."""
    return _REQUEST_ID.get()


def set_request_id(request_id: str | None) -> Token[str | None]:
    """Tag the logs of the current task (and the tasks it starts) with ``request_id``.

    Pass the token to :func:`reset_request_id` when the request is over.
    """
    return _REQUEST_ID.set(request_id)


def reset_request_id(token: Token[str | None]) -> None:
    """Restore the request id that was current before :func:`set_request_id`."""
    _REQUEST_ID.reset(token)


@contextmanager
def bind_request_id(request_id: str | None) -> Iterator[None]:
    """``with bind_request_id(rid):`` tags the logs written inside the block with ``rid``."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        _REQUEST_ID.reset(token)


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` to each record and masks secrets in its message.

    Installed on the handler, not on a logger, so it sees records propagated from every logger.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _REQUEST_ID.get()
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001
            # Logging must never raise into the code that logs: a message that cannot be
            # formatted is reported by the handler's emit() through handleError, as usual.
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``ts``, ``level``, ``logger``, ``message``, ``request_id``,
    and ``exc_info`` / ``stack_info`` when present. Tracebacks are redacted too."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str | None] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            line["exc_info"] = redact(record.exc_text)
        if record.stack_info:
            line["stack_info"] = redact(self.formatStack(record.stack_info))
        return orjson.dumps(line).decode()


class TextFormatter(logging.Formatter):
    """Human-readable lines for development, redacted like the JSON ones."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.request_id_text = getattr(record, "request_id", None) or "-"
        return redact(super().format(record))


class HygieLogHandler(logging.StreamHandler[TextIO]):
    """The handler :func:`configure_logging` installs; a new call replaces the previous one."""


def parse_level(level: str | int) -> int:
    """A logging level from a name (``info``, ``WARNING``) or a number."""
    if isinstance(level, int):
        return level
    value = logging.getLevelNamesMapping().get(level.strip().upper())
    if value is None:
        raise InvalidLogLevel(f"unknown log level {level!r}")
    return value


def configure_logging(
    format: LogFormat,
    level: str | int,
    *,
    stream: TextIO | None = None,
    access_log: bool = False,
) -> HygieLogHandler:
    """Send every log record at ``level`` or above to ``stream`` (stdout) in ``format``.

    Replaces a handler installed by an earlier call; other handlers on the root logger are
    left alone. Uvicorn's own handlers are removed so its messages come out in the same format,
    and its access log (one line per request, with the client's address) is off unless
    ``access_log`` is True. Run uvicorn with ``log_config=None`` so it does not reinstall them.
    """
    root_level = parse_level(level)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, HygieLogHandler):
            root.removeHandler(handler)
            handler.close()
    handler = HygieLogHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    handler.addFilter(RequestContextFilter())
    root.addHandler(handler)
    root.setLevel(root_level)
    for name in _UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    access = logging.getLogger(_ACCESS_LOGGER)
    access.handlers.clear()
    access.propagate = access_log
    access.disabled = not access_log
    return handler
