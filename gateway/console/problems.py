"""Why a console request was refused, rendered as an HTML page in the reader's language."""

from __future__ import annotations


class ConsoleProblem(Exception):
    """A refusal with its status code and the message key (see :mod:`gateway.console.i18n`)."""

    def __init__(self, status: int, message_key: str, **values: str) -> None:
        super().__init__(message_key)
        self.status = status
        self.message_key = message_key
        self.values = values


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""
