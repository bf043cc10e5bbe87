"""Media URLs in chat messages: the model server fetches them itself, so they are checked first.

A vLLM server downloads ``image_url``, ``audio_url`` and ``video_url`` content parts from inside
the hospital network: an unchecked URL lets any key holder make the GPU node request internal
addresses (cloud metadata at 169.254.169.254, admin consoles). Accepted are ``data:`` URLs
(inline bytes, nothing fetched) and ``http(s)`` URLs whose host every deployment the request may
reach lists in ``media_hosts``. (Deployments reached through litellm are external providers,
which fetch from their own network: they are not checked.) Pre-computed embeddings parts
(``image_embeds``, ``audio_embeds``) are deserialised by the server and are refused outright.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from gateway.catalog import Deployment, DeploymentKind
from gateway.errors import InvalidRequest

_URL_PARTS = ("image_url", "audio_url", "video_url", "input_audio")
_REFUSED_PARTS = ("image_embeds", "audio_embeds")


def check_media_urls(
    endpoint: str, body: dict[str, Any], deployments: Sequence[Deployment]
) -> None:
    """Raise :class:`InvalidRequest` naming the first media part that may not be forwarded."""
    deployments = [d for d in deployments if d.kind is DeploymentKind.VLLM]
    if endpoint != "chat" or not deployments:
        return
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    for m, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for p, part in enumerate(content):
            if isinstance(part, dict):
                _check_part(part, f"messages[{m}].content[{p}]", deployments)


def _check_part(part: dict[str, Any], where: str, deployments: Sequence[Deployment]) -> None:
    for kind in _REFUSED_PARTS:
        if kind in part:
            raise InvalidRequest(
                f"Content parts of type {kind!r} are not accepted.", param=f"{where}.{kind}"
            )
    for kind in _URL_PARTS:
        value = part.get(kind)
        url = value.get("url") if isinstance(value, dict) else value
        if isinstance(url, str) and not _allowed(url, deployments):
            raise InvalidRequest(
                f"The {kind} URL may not be fetched by the model server: send the content "
                "inline as a data: URL, or ask your administrator to allow its host.",
                param=f"{where}.{kind}",
            )


def _allowed(url: str, deployments: Sequence[Deployment]) -> bool:
    stripped = url.strip()
    if stripped[:5].lower() == "data:":
        return True
    try:
        parts = urlsplit(stripped)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    return all(host in {h.lower() for h in d.media_hosts} for d in deployments)
