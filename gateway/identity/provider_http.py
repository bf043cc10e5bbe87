"""The one seam to identity providers over HTTP: discovery, key sets and introspection."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

# A discovery document or key set is a few kilobytes; a provider answering megabytes is broken
# or hostile, and is not read into memory.
_MAX_ANSWER_BYTES = 1024 * 1024


class ProviderUnavailable(Exception):
    """The identity provider could not be reached or answered something unusable."""


class ProviderHttp:
    """JSON over HTTP to identity providers, with a bounded answer size and timeout.

    The session is opened on first use (inside the event loop) and closed by :meth:`close`.
    """

    def __init__(self, *, timeout_s: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def get_json(self, url: str) -> dict[str, Any]:
        """The JSON object at ``url``; raises :class:`ProviderUnavailable` otherwise."""
        return await self._request("GET", url)

    async def post_form(
        self, url: str, form: dict[str, str], *, user: str | None = None, password: str = ""
    ) -> dict[str, Any]:
        """POST ``form`` (HTTP basic authentication when ``user`` is given); the JSON answer."""
        headers = {}
        if user is not None:
            headers["authorization"] = aiohttp.encode_basic_auth(user, password)
        return await self._request("POST", url, data=form, headers=headers)

    async def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self._client().request(method, url, **kwargs) as response:
                if response.status != 200:
                    raise ProviderUnavailable(f"{url} answered HTTP {response.status}")
                body = await response.content.read(_MAX_ANSWER_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ProviderUnavailable(f"{url}: {type(exc).__name__}") from None
        if len(body) > _MAX_ANSWER_BYTES:
            raise ProviderUnavailable(f"{url} answered more than {_MAX_ANSWER_BYTES} bytes")
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ProviderUnavailable(f"{url} answered something other than JSON") from None
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{url} answered JSON that is not an object")
        return document

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
