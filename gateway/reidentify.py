"""Putting the original identifiers back into an answer to a pseudonymised request.

Only the generated text is touched (message content, completion text, tool-call arguments); the
table of placeholders stays in this process and dies with the request.
"""

from __future__ import annotations

from typing import Any

import orjson

from policies.pseudonymise import Pseudonyms, StreamRestorer


def restore_body(payload: bytes, pseudonyms: Pseudonyms) -> bytes:
    """A complete JSON answer with placeholders replaced by the original values."""
    try:
        answer = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload
    if not isinstance(answer, dict):
        return payload
    for choice in answer.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        if isinstance(choice.get("text"), str):
            choice["text"] = pseudonyms.restore(choice["text"])
        message = choice.get("message")
        if isinstance(message, dict):
            if isinstance(message.get("content"), str):
                message["content"] = pseudonyms.restore(message["content"])
            for call in message.get("tool_calls") or ():
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                    function["arguments"] = pseudonyms.restore(
                        function["arguments"], json_escape=True
                    )
    return orjson.dumps(answer)


class ChunkRestorer:
    """Restores streamed chunks in place, holding back placeholders split across chunks."""

    def __init__(self, pseudonyms: Pseudonyms) -> None:
        self._pseudonyms = pseudonyms
        self._text: dict[int, StreamRestorer] = {}
        self._arguments: dict[tuple[int, int], StreamRestorer] = {}

    def __call__(self, chunk: dict[str, Any]) -> None:
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            index = int(choice.get("index", 0))
            finished = choice.get("finish_reason") is not None
            delta = choice.get("delta")
            if isinstance(delta, dict):
                self._restore_field(delta, "content", self._restorer(index), finished)
                for call in delta.get("tool_calls") or ():
                    function = call.get("function") if isinstance(call, dict) else None
                    if isinstance(function, dict):
                        key = (index, int(call.get("index", 0)))
                        restorer = self._arguments.setdefault(
                            key, self._pseudonyms.stream_restorer(json_escape=True)
                        )
                        self._restore_field(function, "arguments", restorer, finished)
            elif "text" in choice:
                self._restore_field(choice, "text", self._restorer(index), finished)

    def _restorer(self, index: int) -> StreamRestorer:
        restorer = self._text.get(index)
        if restorer is None:
            restorer = self._text[index] = self._pseudonyms.stream_restorer()
        return restorer

    @staticmethod
    def _restore_field(
        holder: dict[str, Any], field: str, restorer: StreamRestorer, finished: bool
    ) -> None:
        value = holder.get(field)
        if not isinstance(value, str) and not finished:
            return
        text = restorer.feed(value) if isinstance(value, str) else ""
        if finished:
            text += restorer.flush()
        if isinstance(value, str) or text:
            holder[field] = text
