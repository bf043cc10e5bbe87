"""Which media URLs a model server may be asked to fetch, and which parameters it never sees."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.backends.media_urls import check_media_urls
from gateway.backends.server_params import params_to_drop
from gateway.catalog import Deployment
from gateway.errors import InvalidRequest

PACS = Deployment(name="a", replicas=["http://gpu-a:8000/v1"], media_hosts=("pacs.chu.example",))
STRICT = Deployment(name="b", replicas=["http://gpu-b:8000/v1"])
CLOUD = Deployment(name="c", kind="litellm", litellm_model="openai/gpt-4o-mini")


def body(*parts: dict[str, Any]) -> dict[str, Any]:
    greeting = {"role": "user", "content": "Bonjour"}
    return {"messages": [greeting, {"role": "user", "content": list(parts)}]}


def test_every_vllm_deployment_the_request_may_reach_must_allow_the_host() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://pacs.chu.example/1.png"}}
    check_media_urls("chat", body(image), [PACS, CLOUD])  # the provider fetches from its cloud
    with pytest.raises(InvalidRequest) as refused:
        check_media_urls("chat", body({"type": "text", "text": "x"}, image), [PACS, STRICT])
    assert refused.value.param == "messages[1].content[1].image_url"


@pytest.mark.parametrize(
    "part",
    [
        {"type": "audio_url", "audio_url": {"url": "http://10.0.0.5/a.wav"}},
        {"type": "video_url", "video_url": "http://[::1]/v.mp4"},
        {"type": "image_url", "image_url": {"url": "gopher://pacs.chu.example/"}},
        {"type": "image_url", "image_url": {"url": "http://[bad"}},
        {"type": "image_embeds", "image_embeds": "AAAA"},
    ],
)
def test_other_media_parts_are_refused(part: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        check_media_urls("chat", body(part), [PACS])


def test_inline_media_and_other_endpoints_pass() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}}
    inline = {"type": "image_url", "image_url": {"url": " DATA:image/png;base64,AAAA"}}
    check_media_urls("chat", body(audio, inline), [STRICT])
    check_media_urls("completions", {"prompt": "http://169.254.169.254/"}, [STRICT])


def test_only_server_side_parameters_the_deployment_does_not_allow_are_dropped() -> None:
    sent = {"model": "m", "prompt_embeds": "AAAA", "priority": 1, "top_k": 3, "guided_json": {}}
    assert params_to_drop(sent, ()) == ("priority", "prompt_embeds")
    assert params_to_drop(sent, ("priority",)) == ("prompt_embeds",)
    assert params_to_drop({"model": "m", "messages": []}, ()) == ()
