"""A chat upstream whose SSE framing is chosen by the test (sse-starlette frames with CRLF), and
whose answers can be made larger than any sane model server's.

Streams carry ``event:`` and ``id:`` lines and a comment, like servers built on sse-starlette,
and end with a usage chunk and ``[DONE]``. ``padding`` adds that many bytes to a plain answer,
and to the content of a stream's second chunk (an event far larger than any real one).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

WORDS = ("Bonjour", " docteur", ",", " voici", " la", " réponse", ".")
USAGE = {"prompt_tokens": 79, "completion_tokens": len(WORDS), "total_tokens": 79 + len(WORDS)}


def framed_app(line_end: str = "\r\n", *, padding: int = 0) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()
        base = {"id": "chatcmpl-framed", "created": 1, "model": body["model"]}
        if not body.get("stream"):
            message = {"role": "assistant", "content": "".join(WORDS) + " " * padding}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            answer = {**base, "object": "chat.completion", "choices": [choice], "usage": USAGE}
            return JSONResponse(answer)

        def event(n: int, chunk: dict[str, Any]) -> str:
            data = json.dumps({**base, "object": "chat.completion.chunk", **chunk})
            return line_end.join(["event: message", f"id: {n}", f"data: {data}", "", ""])

        async def events() -> AsyncIterator[str]:
            yield f": ping{line_end}{line_end}"
            for n, word in enumerate(WORDS):
                text = word + " " * padding if n == 1 else word
                choice = {"index": 0, "delta": {"content": text}, "finish_reason": None}
                yield event(n, {"choices": [choice]})
            yield event(len(WORDS), {"choices": [], "usage": USAGE})
            yield f"data: [DONE]{line_end}{line_end}"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
