"""Reading the console's forms: URL-encoded bodies, bounded, without a multipart parser."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from gateway.console.problems import ConsoleProblem

FORM_MAX_BYTES = 64 * 1024
"""Large enough for a pasted request in the explain form, small enough to refuse a flood."""
_MAX_FIELDS = 64


class Form(dict[str, str]):
    """Field -> value (the first value when a field is repeated)."""

    def text(self, name: str, limit: int = 200) -> str:
        """The stripped value of ``name`` (empty when absent); 400 when over ``limit``."""
        value = self.get(name, "").strip()
        if len(value) > limit:
            raise ConsoleProblem(400, "error.too_long")
        return value

    def optional(self, name: str, limit: int = 200) -> str | None:
        return self.text(name, limit) or None


async def read_form(request: Request, limit: int = FORM_MAX_BYTES) -> Form:
    """The request's URL-encoded form; 413 when too large, 415 for another content type."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise ConsoleProblem(415, "error.form_type")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise ConsoleProblem(413, "error.too_large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ConsoleProblem(413, "error.too_large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise ConsoleProblem(400, "error.bad_form") from None
    form = Form()
    for name, value in pairs:
        form.setdefault(name, value)
    return form
