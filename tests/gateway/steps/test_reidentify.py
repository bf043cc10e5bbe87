"""Placeholders restored in every generated field of an answer, whole or streamed."""

from __future__ import annotations

import json
from typing import Any

import orjson

from gateway.steps.reidentify import ChunkRestorer, restore_body
from policies.pseudonymise import Pseudonyms

PSEUDONYMS = Pseudonyms({"[PERSON_1]": 'Jeanne "DUPONT"', "[IPP_1]": "12345678"})


def test_every_generated_field_of_a_whole_answer_is_restored() -> None:
    message = {
        "role": "assistant",
        "content": "Pour [PERSON_1].",
        "refusal": "Pas pour [PERSON_1].",
        "reasoning_content": "L'IPP [IPP_1] est connu.",
        "tool_calls": [{"function": {"name": "f", "arguments": '{"p": "[PERSON_1]"}'}}],
        "function_call": {"name": "g", "arguments": '{"ipp": "[IPP_1]"}'},
    }
    answer = {"choices": [{"index": 0, "message": message}]}

    restored = orjson.loads(restore_body(orjson.dumps(answer), PSEUDONYMS))["choices"]
    out = restored[0]["message"]

    assert out["content"] == 'Pour Jeanne "DUPONT".'
    assert out["refusal"] == 'Pas pour Jeanne "DUPONT".'
    assert out["reasoning_content"] == "L'IPP 12345678 est connu."
    assert json.loads(out["tool_calls"][0]["function"]["arguments"]) == {"p": 'Jeanne "DUPONT"'}
    assert json.loads(out["function_call"]["arguments"]) == {"ipp": "12345678"}


def test_streamed_fields_are_restored_each_with_its_own_held_back_placeholder() -> None:
    restore = ChunkRestorer(PSEUDONYMS)
    # Content and reasoning interleave, each splitting a placeholder across chunks.
    deltas: list[dict[str, Any]] = [
        {"reasoning_content": "IPP [IP", "content": "Pour [PER"},
        {"reasoning_content": "P_1] vu", "content": "SON_1] !"},
        {"function_call": {"arguments": '{"p": "[PERS'}},
        {"function_call": {"arguments": 'ON_1]"}'}},
    ]
    got: dict[str, str] = {"reasoning_content": "", "content": "", "arguments": ""}
    for number, delta in enumerate(deltas):
        finished = number == len(deltas) - 1
        chunk: dict[str, Any] = {
            "choices": [{"index": 0, "delta": delta, "finish_reason": finished or None}]
        }
        restore(chunk)
        out = chunk["choices"][0]["delta"]
        for field in ("reasoning_content", "content"):
            got[field] += out.get(field) or ""
        got["arguments"] += (out.get("function_call") or {}).get("arguments") or ""

    assert got["reasoning_content"] == "IPP 12345678 vu"
    assert got["content"] == 'Pour Jeanne "DUPONT" !'
    assert json.loads(got["arguments"]) == {"p": 'Jeanne "DUPONT"'}
