"""Putting the original identifiers back into an answer to a pseudonymised request.

Only the generated text is touched (message content, refusal and reasoning, completion text,
tool-call and function-call arguments); the table of placeholders stays in this process and dies
with the request.
"""

from __future__ import annotations

from typing import Any

import orjson

from policies.pseudonymise import Pseudonyms, StreamRestorer

# Generated text a model may copy a placeholder into: the answer, a refusal, its reasoning.
_TEXT_FIELDS = ("content", "refusal", "reasoning_content")


def _functions(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The function objects of a message or delta: tool calls and the legacy function_call."""
    calls = [c for c in message.get("tool_calls") or () if isinstance(c, dict)]
    functions = [c["function"] for c in calls if isinstance(c.get("function"), dict)]
    legacy = message.get("function_call")
    return [*functions, legacy] if isinstance(legacy, dict) else functions


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
            for field in _TEXT_FIELDS:
                if isinstance(message.get(field), str):
                    message[field] = pseudonyms.restore(message[field])
            for function in _functions(message):
                if isinstance(function.get("arguments"), str):
                    function["arguments"] = pseudonyms.restore(
                        function["arguments"], json_escape=True
                    )
    return orjson.dumps(answer)


class ChunkRestorer:
    """Restores streamed chunks in place, holding back placeholders split across chunks."""

    def __init__(self, pseudonyms: Pseudonyms) -> None:
        self._pseudonyms = pseudonyms
        self._text: dict[tuple[int, str], StreamRestorer] = {}
        self._arguments: dict[tuple[int, int], StreamRestorer] = {}

    def __call__(self, chunk: dict[str, Any]) -> None:
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            index = int(choice.get("index", 0))
            finished = choice.get("finish_reason") is not None
            delta = choice.get("delta")
            if isinstance(delta, dict):
                for field in _TEXT_FIELDS:
                    self._restore_field(delta, field, self._restorer(index, field), finished)
                legacy = delta.get("function_call")
                if isinstance(legacy, dict):
                    restorer = self._restorer(index, "function_call", json_escape=True)
                    self._restore_field(legacy, "arguments", restorer, finished)
                for call in delta.get("tool_calls") or ():
                    function = call.get("function") if isinstance(call, dict) else None
                    if isinstance(function, dict):
                        key = (index, int(call.get("index", 0)))
                        restorer = self._arguments.setdefault(
                            key, self._pseudonyms.stream_restorer(json_escape=True)
                        )
                        self._restore_field(function, "arguments", restorer, finished)
            elif "text" in choice:
                self._restore_field(choice, "text", self._restorer(index, "text"), finished)

    def _restorer(self, index: int, field: str, *, json_escape: bool = False) -> StreamRestorer:
        restorer = self._text.get((index, field))
        if restorer is None:
            restorer = self._pseudonyms.stream_restorer(json_escape=json_escape)
            self._text[(index, field)] = restorer
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
