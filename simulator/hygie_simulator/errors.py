"""Errors the simulated server answers with, each carrying its status and vLLM's body shape.

`SimulatorError.body()` is the only place the JSON error bodies are built.
"""

from __future__ import annotations

from typing import Any

_NO_VALUE: Any = object()
"""Some of vLLM's checks name the parameter without its value."""


class SimulatorError(Exception):
    """An error answered as vLLM does: `{"error": {message, type, param, code}}`."""

    status: int = 400
    err_type: str = "BadRequestError"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.err_type,
                "param": self.param,
                "code": self.status,
            }
        }


class InvalidParameter(SimulatorError):
    """A parameter vLLM rejects (VLLMValidationError): the message ends with
    `(parameter=..., value=...)`."""

    def __init__(self, message: str, *, parameter: str, value: Any = _NO_VALUE) -> None:
        detail = parameter if value is _NO_VALUE else f"{parameter}, value={value}"
        super().__init__(f"{message} (parameter={detail})", param=parameter)


class RequestValidationFailure(SimulatorError):
    """A body that is not JSON or does not fit the request schema (FastAPI's validation, as
    vLLM renders it: type "Bad Request", pydantic-style message)."""

    err_type = "Bad Request"


class ModelNotFound(SimulatorError):
    """The requested model is not served."""

    status = 404
    err_type = "NotFoundError"

    def __init__(self, requested: str, served: list[str]) -> None:
        super().__init__(
            f"The model `{requested}` does not exist. Valid aliases: {', '.join(served)}.",
            param="model",
        )


class InjectedServerError(SimulatorError):
    """The `http_500` fault."""

    status = 500
    err_type = "InternalServerError"

    def __init__(self) -> None:
        super().__init__(
            "EngineCore encountered an issue. See stack trace (above) for the root cause."
        )


class InjectedUnavailable(SimulatorError):
    """The `http_503` fault."""

    status = 503
    err_type = "ServiceUnavailableError"

    def __init__(self) -> None:
        super().__init__("The server is temporarily overloaded; please retry later.")


class RouteNotFound(Exception):
    """A path the server has no route for (also: an endpoint the model's kind does not serve,
    as a vLLM server started for an embedding model has no /v1/chat/completions). Rendered as
    Starlette's `{"detail": "Not Found"}`."""


def sanitize_input(value: Any) -> Any:
    """The `input` of a validation error as vLLM prints it (containers summarised)."""
    if isinstance(value, dict):
        return f"<dict of {len(value)} items>"
    if isinstance(value, list):
        return f"<list of {len(value)} items>"
    return value


def validation_failure(errors: list[dict[str, Any]]) -> RequestValidationFailure:
    """The 400 vLLM answers for FastAPI validation errors (pydantic error dicts, `loc` joined
    with dots, `url` dropped, inputs summarised)."""
    lines: list[str] = []
    first_loc = None
    for error in errors:
        loc = ".".join(str(part) for part in error["loc"])
        first_loc = first_loc or loc
        shown: dict[str, Any] = {
            "type": error["type"],
            "loc": loc,
            "msg": error["msg"],
            "input": sanitize_input(error.get("input")),
        }
        if "ctx" in error:
            shown["ctx"] = {
                key: str(value) if isinstance(value, Exception) else value
                for key, value in error["ctx"].items()
            }
        lines.append(f"  {shown!r}")
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return RequestValidationFailure(
        f"{count} validation {noun}:\n" + "\n".join(lines), param=first_loc
    )
