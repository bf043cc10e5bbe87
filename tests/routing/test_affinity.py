"""Conversation keys and rendezvous hashing."""

from __future__ import annotations

from typing import Any

from gateway.catalog import Deployment
from gateway.routing.affinity import affinity_key, preferred_replica
from gateway.routing.replicas import Replica

SYSTEM = {"role": "system", "content": "Tu es un assistant de cardiologie."}


def chat_body(*messages: Any) -> dict[str, Any]:
    return {"model": "llama-3-8b", "messages": list(messages)}


def test_later_turns_of_a_conversation_keep_its_key() -> None:
    first = chat_body(SYSTEM, {"role": "user", "content": "Question 1"})
    later = chat_body(
        SYSTEM,
        {"role": "user", "content": "Question 1"},
        {"role": "assistant", "content": "Réponse"},
        {"role": "user", "content": "Question 2"},
    )
    key = affinity_key("chat", first, "u1")
    assert key is not None and key == affinity_key("chat", later, "u1")


def test_user_system_prompt_first_message_and_model_change_the_key() -> None:
    base = affinity_key("chat", chat_body(SYSTEM, {"role": "user", "content": "Q"}), "u1")
    others = {
        affinity_key("chat", chat_body(SYSTEM, {"role": "user", "content": "Q"}), "u2"),
        affinity_key("chat", chat_body({"role": "user", "content": "Q"}), "u1"),
        affinity_key("chat", chat_body(SYSTEM, {"role": "user", "content": "R"}), "u1"),
        affinity_key(
            "chat",
            {"model": "mistral-7b", "messages": [SYSTEM, {"role": "user", "content": "Q"}]},
            "u1",
        ),
    }
    assert base not in others and len(others) == 4


def test_multimodal_content_and_completions_have_keys_embeddings_none() -> None:
    parts = [{"type": "text", "text": "Décris"}, {"type": "image_url", "image_url": {"url": "x"}}]
    assert affinity_key("chat", chat_body({"role": "user", "content": parts}), None) is not None
    prompt = affinity_key("completions", {"model": "m", "prompt": "Il était une fois"}, "u")
    assert prompt == affinity_key(
        "completions", {"model": "m", "prompt": ["Il était une fois"]}, "u"
    )
    assert affinity_key("embeddings", {"model": "bge-m3", "input": "x"}, "u") is None
    assert affinity_key("chat", chat_body(SYSTEM), "u") is None  # no user message yet
    assert affinity_key("chat", {"model": "m", "messages": "not a list"}, "u") is None


def test_removing_a_replica_moves_only_its_own_keys() -> None:
    deployment = Deployment(name="d", replicas=("http://a/v1",))
    replicas = [Replica(deployment, f"http://10.0.0.{i}:8000/v1") for i in range(4)]
    keys = [f"conversation-{i}" for i in range(400)]
    before = {key: preferred_replica(replicas, key) for key in keys}
    assert {id(r) for r in before.values()} == {id(r) for r in replicas}  # all replicas used
    gone = replicas[2]
    after = {key: preferred_replica([r for r in replicas if r is not gone], key) for key in keys}
    moved = [key for key in keys if after[key] is not before[key]]
    assert moved and all(before[key] is gone for key in moved)
