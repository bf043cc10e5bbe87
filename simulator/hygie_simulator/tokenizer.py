"""A small deterministic tokenizer standing in for the served models' tokenizers.

Text is cut into BPE-like pieces (a word of up to 8 letters with its leading space, up to 3 digits,
one punctuation mark, whitespace runs). Chat prompts are rendered with a Llama-3-style template so
counts look like a real chat template's. Every count the server reports (usage, /tokenize,
/metrics) comes from the functions here, so they always agree.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

import orjson

_PIECE = re.compile(r" ?[^\W\d_]{1,8}| ?\d{1,3}| ?[^\w\s]| ?_|\s+(?!\S)|\s")

BEGIN_OF_TEXT = "<|begin_of_text|>"
START_HEADER = "<|start_header_id|>"
END_HEADER = "<|end_header_id|>"
END_OF_TURN = "<|eot_id|>"
IMAGE = "<|image|>"
CLS = "<s>"
SEP = "</s>"

_SPECIAL_IDS: Final[Mapping[str, int]] = MappingProxyType(
    {
        BEGIN_OF_TEXT: 128000,
        START_HEADER: 128006,
        END_HEADER: 128007,
        END_OF_TURN: 128009,
        IMAGE: 128256,
        CLS: 0,
        SEP: 2,
    }
)
_VOCAB_SIZE = 128000
_FIRST_ORDINARY_ID = 256


def text_pieces(text: str) -> list[str]:
    """The pieces of `text`, in order; concatenated they give `text` back."""
    return _PIECE.findall(text)


def token_id(piece: str) -> int:
    """A stable id for `piece` (special tokens keep Llama-3 / XLM-R ids)."""
    special = _SPECIAL_IDS.get(piece)
    if special is not None:
        return special
    return _FIRST_ORDINARY_ID + zlib.crc32(piece.encode()) % (_VOCAB_SIZE - _FIRST_ORDINARY_ID)


def _content_text(content: Any) -> list[str]:
    """Pieces of an OpenAI message `content`: a string, a list of parts, or None."""
    if content is None:
        return []
    if isinstance(content, str):
        return text_pieces(content)
    pieces: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                pieces.extend(text_pieces(part["text"]))
            elif isinstance(part, dict) and part.get("type") in ("image_url", "input_audio"):
                pieces.append(IMAGE)
            elif isinstance(part, str):
                pieces.extend(text_pieces(part))
    return pieces


def _json_pieces(value: Any) -> list[str]:
    return text_pieces(orjson.dumps(value).decode())


def chat_prompt_pieces(
    messages: Sequence[Any],
    tools: Sequence[Any] | None = None,
    add_generation_prompt: bool = True,
) -> list[str]:
    """The rendered chat prompt as pieces: BOS, one header/content/end-of-turn block per
    message (plus one for the tool definitions), then the assistant header."""
    pieces = [BEGIN_OF_TEXT]
    if tools:
        pieces += [START_HEADER, "system", END_HEADER, "\n\n", *_json_pieces(list(tools))]
        pieces.append(END_OF_TURN)
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = str(message.get("role", "user"))
        pieces += [START_HEADER, role, END_HEADER, "\n\n"]
        name = message.get("name")
        if isinstance(name, str) and name:
            pieces += [*text_pieces(name), ":"]
        pieces += _content_text(message.get("content"))
        tool_calls = message.get("tool_calls")
        if tool_calls:
            pieces += _json_pieces(tool_calls)
        pieces.append(END_OF_TURN)
    if add_generation_prompt:
        pieces += [START_HEADER, "assistant", END_HEADER, "\n\n"]
    return pieces


def completion_prompt_pieces(prompt: str, add_special_tokens: bool = True) -> list[str]:
    """A completion prompt as pieces, with the BOS token a Llama tokenizer adds."""
    pieces = text_pieces(prompt)
    return [BEGIN_OF_TEXT, *pieces] if add_special_tokens else pieces


def embedding_input_pieces(text: str) -> list[str]:
    """An embedding input as pieces, framed by the CLS/SEP tokens of an encoder tokenizer."""
    return [CLS, *text_pieces(text), SEP]


PromptItem = str | list[int]


def split_prompts(prompt: Any) -> list[PromptItem]:
    """A completions `prompt` / embeddings `input` as a list of single prompts: a string, a list
    of strings, a list of token ids or a list of lists of token ids. Raises ValueError otherwise."""
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, str) for p in prompt):
            return list(prompt)
        if all(isinstance(p, int) and not isinstance(p, bool) for p in prompt):
            return [list(prompt)]
        if all(isinstance(p, list) and p and all(isinstance(t, int) for t in p) for p in prompt):
            return [list(p) for p in prompt]
    raise ValueError("prompt must be a string, a list of strings or a list of token ids")


def completion_prompt_tokens(item: PromptItem) -> int:
    """Prompt tokens of one completion prompt (token ids are taken as they are)."""
    if isinstance(item, str):
        return len(completion_prompt_pieces(item))
    return len(item)


def embedding_input_tokens(item: PromptItem) -> int:
    """Prompt tokens of one embedding input (token ids are taken as they are)."""
    if isinstance(item, str):
        return len(embedding_input_pieces(item))
    return len(item)


def count_prompt_tokens(body: dict[str, Any]) -> int:
    """The `usage.prompt_tokens` the simulator reports for this request body: chat when it has
    `messages`, embeddings when it has `input`, completions when it has `prompt` (summed over a
    batch of prompts). Raises ValueError for a body with none of them."""
    if "messages" in body:
        return len(chat_prompt_pieces(body["messages"], body.get("tools")))
    if "input" in body:
        return sum(embedding_input_tokens(item) for item in split_prompts(body["input"]))
    if "prompt" in body:
        return sum(completion_prompt_tokens(item) for item in split_prompts(body["prompt"]))
    raise ValueError("body has neither messages, input nor prompt")
