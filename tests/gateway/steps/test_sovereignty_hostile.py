"""Sovereignty under hostile and odd input, through a real gateway and a recording provider.

The promise: a request carrying patient identifiers never reaches a deployment not cleared for
health data, whatever the typography of the identifiers and wherever in the body they hide;
it is refused, rerouted, or pseudonymised (every mention, in every form) and restored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.responses import PlainTextResponse

from gateway.http.local_server import BackgroundServer
from policies.phi.normalise import normalise
from tests.conftest import CHAT_MODEL, GatewayFactory, RunningGateway
from tests.gateway.echo_upstream import echo_app
from tests.gateway.steps.test_sovereignty import catalog, pseudonymising_policy

NBSP, NARROW_NBSP, THIN, ZERO_WIDTH = "\u00a0", "\u202f", "\u2009", "\u200b"
FULLWIDTH = {ord("0") + d: 0xFF10 + d for d in range(10)}
SEPARATORS = [" ", NBSP, NARROW_NBSP, THIN, ZERO_WIDTH, ""]
NAMES = [("Jeanne", "DUPONT"), ("Pierre", "LEFEBVRE"), ("Hélène", "MOREAU"), ("Louis", "GIRAUD")]


@pytest.fixture
def external() -> Iterator[tuple[BackgroundServer, list[dict[str, Any]]]]:
    """The recording provider, answering health checks: these tests outlast three of them."""
    received: list[dict[str, Any]] = []
    app = echo_app(received)
    app.add_route("/health", lambda _request: PlainTextResponse("ok"))
    with BackgroundServer(app) as server:
        yield server, received


def post(gw: RunningGateway, body: bytes | dict[str, Any], path: str = "chat/completions") -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return httpx.post(
        f"{gw.base_url}/{path}",
        content=content,
        headers={"Authorization": f"Bearer {gw.key}", "Content-Type": "application/json"},
        timeout=10,
    )


# --- Generated identifiers, each with the digits or words that must never leave in clear ---


def _nir(draw: st.DrawFn) -> tuple[str, str]:
    parts = (
        draw(st.sampled_from("12")),
        f"{draw(st.integers(30, 99)):02d}{draw(st.integers(1, 12)):02d}",
        f"{draw(st.integers(1, 95)):02d}{draw(st.integers(1, 999)):03d}",
        f"{draw(st.integers(1, 999)):03d}",
    )
    number = "".join(parts)
    digits = f"{number}{97 - int(number) % 97:02d}"
    return "NIR", digits


@st.composite
def identifiers(draw: st.DrawFn) -> tuple[str, str, str]:
    """(kind, the value's digits or "First LAST", how it is written in its first mention)."""
    kind = draw(st.sampled_from(["NIR", "IPP", "PHONE", "PERSON", "BIRTHDATE"]))
    separator = draw(st.sampled_from(SEPARATORS))
    fullwidth = draw(st.booleans())

    def digits_in(groups: list[str]) -> str:
        written = separator.join(groups)
        return written.translate(FULLWIDTH) if fullwidth else written

    if kind == "NIR":
        _, digits = _nir(draw)
        groups = [digits[0], digits[1:3], digits[3:5], digits[5:7], digits[7:10], digits[10:13]]
        return kind, digits, f"NIR{NBSP}{digits_in([*groups, digits[13:]])}"
    if kind == "IPP":
        digits = str(draw(st.integers(10_000_000, 99_999_999)))
        keyword = draw(st.sampled_from(["IPP", "ipp", "IPP :", "I\u0420\u0420"]))  # Cyrillic Er
        return kind, digits, f"{keyword}{draw(st.sampled_from([' ', NBSP]))}{digits}"
    if kind == "PHONE":
        digits = f"06{draw(st.integers(10_000_000, 99_999_999))}"
        return kind, digits, digits_in([digits[i : i + 2] for i in range(0, 10, 2)])
    if kind == "BIRTHDATE":
        day, month, year = draw(st.integers(10, 28)), draw(st.integers(10, 12)), 1956
        digits = f"{day}{month}{year}"
        mark = draw(st.sampled_from("/.-"))
        date = f"{day}{mark}{month}{mark}{year}"
        return kind, digits, f"née le {date.translate(FULLWIDTH) if fullwidth else date}"
    first, last = draw(st.sampled_from(NAMES))
    title = draw(st.sampled_from(["Mme", "M.", "Dr"]))
    space = draw(st.sampled_from([" ", NBSP, NARROW_NBSP, THIN]))
    return kind, f"{first} {last}", f"{title}{space}{first}{space}{last}"


def second_form(kind: str, value: str) -> str:
    """Another way of writing the same value: no keyword, other spacing, lower case."""
    if kind == "PERSON":
        return value.split()[-1].lower()
    return " ".join(value[i : i + 2] for i in range(0, len(value), 2))


PLACES = [
    "content", "system", "tool_result", "tool_schema", "response_format", "metadata",
    "unknown_field", "key", "name", "number",
]  # fmt: skip


def request_with(kind: str, value: str, written: str, place: str) -> dict[str, Any]:
    """A chat request with the identifier written at ``place``, and a second form elsewhere."""
    body: dict[str, Any] = {
        "model": "cloud-gpt",
        "max_tokens": 5,
        "messages": [
            {"role": "system", "content": "Tu es un assistant de synthèse."},
            {"role": "user", "content": "Synthèse, s'il te plaît."},
        ],
        "metadata": {"note": f"voir aussi {second_form(kind, value)}"},
    }
    messages = body["messages"]
    json_key = {"NIR": "nir", "IPP": "ipp", "PHONE": "telephone", "BIRTHDATE": "ddn"}
    if place == "content":
        messages[1]["content"] = f"Synthèse du dossier : {written}."
    elif place == "system":
        messages[0]["content"] = f"Dossier en cours : {written}."
    elif place == "tool_result":
        bare = value if kind != "PERSON" else value.split()[-1]
        result = {json_key.get(kind, "nom"): bare}
        messages.insert(1, {"role": "tool", "tool_call_id": "c1", "content": json.dumps(result)})
        messages.insert(
            1,
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
        )
    elif place == "tool_schema":
        function = {"name": "f", "description": f"Pour {written}", "parameters": {}}
        body["tools"] = [{"type": "function", "function": function}]
    elif place == "response_format":
        schema = {"type": "object", "description": f"Réponse pour {written}"}
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "r", "schema": schema},
        }
    elif place == "metadata":
        body["metadata"]["dossier"] = written
    elif place == "unknown_field":
        body["x_patient_context"] = {"texte": written}
    elif place == "key":
        body["metadata"][written] = "oui"
    elif place == "name":
        messages[1]["name"] = written.replace(" ", "_").replace(NBSP, "_")
    elif place == "number" and kind in ("NIR", "IPP"):
        body["metadata"][json_key[kind]] = int(value)
    else:  # a number cannot hold a name, a phone (leading zero) or a date: in a key's value
        body["metadata"][json_key.get(kind, "patient")] = value
    return body


def leaked(kind: str, value: str, sent: Any) -> bool:
    """True when ``sent`` (what reached the provider) holds the value in any form."""
    text = normalise(json.dumps(sent, ensure_ascii=False)).text
    if kind == "PERSON":
        words = [w for w in value.split() if len(w) >= 3]
        return any(
            re.search(rf"(?<!\w){re.escape(normalise(w).text)}(?!\w)", text, re.IGNORECASE)
            for w in words
        )
    return re.search(r"[^0-9A-Za-z]{0,3}".join(value), text) is not None


@pytest.fixture
def gateways(
    simulator: BackgroundServer,
    external: tuple[BackgroundServer, list[dict[str, Any]]],
    start_gateway: GatewayFactory,
    sqlite_url: str,
    tmp_path: Path,
) -> dict[str, RunningGateway]:
    server = external[0]
    return {
        "deny": start_gateway(catalog(simulator.url, server.url, alternative=False), sqlite_url),
        "reroute": start_gateway(catalog(simulator.url, server.url, alternative=True), sqlite_url),
        "pseudonymise": start_gateway(
            catalog(simulator.url, server.url, alternative=False),
            sqlite_url,
            policy=pseudonymising_policy(tmp_path),
        ),
    }


@pytest.mark.slow
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    identifier=identifiers(),
    place=st.sampled_from(PLACES),
    mode=st.sampled_from(["deny", "reroute", "pseudonymise"]),
)
def test_no_identifier_reaches_the_external_provider_in_any_form_or_place(
    gateways: dict[str, RunningGateway],
    external: tuple[BackgroundServer, list[dict[str, Any]]],
    identifier: tuple[str, str, str],
    place: str,
    mode: str,
) -> None:
    kind, value, written = identifier
    received = external[1]
    received.clear()
    body = request_with(kind, value, written, place)

    response = post(gateways[mode], body)

    # A phone number alone is personal data, which the pseudonymising rule does not cover:
    # that request is refused instead. Where the words around it make a ten-digit number a
    # stay number ("dossier : 06…"), it is a health identifier and pseudonymised: either way
    # it must not reach the provider.
    refused = mode == "deny" or (mode == "pseudonymise" and kind == "PHONE")
    if mode == "pseudonymise" and kind == "PHONE" and response.status_code == 200:
        refused = False
    assert response.status_code == (403 if refused else 200), response.text
    assert response.headers["x-hygie-policy-decision"] == ("deny" if refused else mode)
    if mode == "pseudonymise" and not refused:
        [sent] = received
        assert not leaked(kind, value, sent), json.dumps(sent, ensure_ascii=False)
    else:
        assert received == []  # refused, or rerouted on premise: nothing reached the provider


# --- Body shapes refused at parse time ---


def nested(depth: int) -> str:
    return "[" * (depth - 1) + "1" + "]" * (depth - 1)


@pytest.mark.parametrize("depth", [100, 500, 1023])
def test_deeply_nested_json_is_a_400_not_a_500(
    gateways: dict[str, RunningGateway],
    external: tuple[BackgroundServer, list[dict[str, Any]]],
    depth: int,
) -> None:
    raw = (
        '{"model": "cloud-gpt", "messages": [{"role": "user", "content": "Bonjour"}], '
        f'"metadata": {{"x": {nested(depth)}}}}}'
    ).encode()
    for path in ("chat/completions", "policy/explain"):
        response = post(gateways["reroute"], raw, path)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert external[1] == []


def test_ordinary_nesting_is_accepted(gateways: dict[str, RunningGateway]) -> None:
    body = {
        "model": CHAT_MODEL,
        "max_tokens": 2,
        "messages": [{"role": "user", "content": "Bonjour"}],
        "metadata": {"x": json.loads(nested(40))},
    }
    assert post(gateways["reroute"], body).status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        # The gateway read the second "messages" (orjson keeps the last); another parser may
        # keep the first, the one with the patient.
        '{"model": "cloud-gpt", "messages": [{"role": "user", "content": '
        '"Mme Jeanne DUPONT, IPP 12345678"}], '
        '"messages": [{"role": "user", "content": "Bonjour"}]}',
        '{"model": "cloud-gpt", "messages": [{"role": "user", "content": "Bonjour", '
        '"content" : "Mme Jeanne DUPONT"}]}',
        '{"model": "cloud-gpt", "messages": [{"role": "user", "content": "Bonjour"}], '
        '"metadata": {"a": "\\":", "b": 1, "b": 2}}',
    ],
)
def test_duplicate_keys_are_refused(
    gateways: dict[str, RunningGateway],
    external: tuple[BackgroundServer, list[dict[str, Any]]],
    raw: str,
) -> None:
    response = post(gateways["reroute"], raw.encode())
    assert response.status_code == 400, response.text
    assert "repeats a key" in response.json()["error"]["message"]
    assert external[1] == []


def test_colons_in_texts_are_not_mistaken_for_duplicate_keys(
    gateways: dict[str, RunningGateway],
) -> None:
    arguments = json.dumps({"q": 'dit "oui": 2', "r": 1})
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": arguments}}
    body = {
        "model": CHAT_MODEL,
        "max_tokens": 2,
        "messages": [
            {"role": "user", "content": 'Note "a": b'},
            {
                "role": "assistant",
                "tool_calls": [call],
            },
            {"role": "tool", "tool_call_id": "c", "content": '{"x": 1}'},
        ],
    }
    assert post(gateways["reroute"], body).status_code == 200


# --- Answers when the policy refuses, reroutes or finds nowhere to go ---


def test_a_refused_stream_carries_the_policy_headers(
    gateways: dict[str, RunningGateway],
) -> None:
    body = {
        "model": "cloud-gpt",
        "stream": True,
        "messages": [{"role": "user", "content": "Mme Jeanne DUPONT, IPP 12345678"}],
    }
    response = post(gateways["deny"], body)
    assert response.status_code == 403
    assert response.headers["x-hygie-policy-decision"] == "deny"
    assert response.headers["x-hygie-data-class"] == "health"
    assert response.headers["x-hygie-policy-version"]


def test_a_rerouted_stream_carries_the_policy_headers(
    gateways: dict[str, RunningGateway],
) -> None:
    client = gateways["reroute"].sdk()
    with client.chat.completions.with_streaming_response.create(
        model="cloud-gpt",
        messages=[{"role": "user", "content": "Mme Jeanne DUPONT, IPP 12345678"}],
        max_tokens=3,
        stream=True,
    ) as response:
        assert [c for c in response.parse() if c.choices]
        headers = response.headers
    assert headers["x-hygie-policy-decision"] == "reroute"
    assert headers["x-hygie-model"] == CHAT_MODEL
    assert headers["x-hygie-hosting-class"] == "on_premise"
    assert headers["x-hygie-data-class"] == "health"


def test_a_rerouted_request_that_finds_its_server_down_keeps_the_policy_headers(
    external: tuple[BackgroundServer, list[dict[str, Any]]],
    start_gateway: GatewayFactory,
    sqlite_url: str,
) -> None:
    # The sovereign alternative's only server is down: the request may go nowhere else, and
    # certainly not to the external provider. The client still learns the policy's verdict.
    with BackgroundServer(echo_app([])) as gone:
        down_url = gone.url
    gw = start_gateway(catalog(down_url, external[0].url, alternative=True), sqlite_url)
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError) as caught:
            gw.sdk(max_retries=0).chat.completions.create(
                model="cloud-gpt",
                messages=[{"role": "user", "content": "Mme Jeanne DUPONT, IPP 12345678"}],
                max_tokens=3,
                stream=stream,
            )
        response = caught.value.response
        assert response.status_code in (502, 503)
        if response.status_code == 503:
            assert int(response.headers["retry-after"]) >= 1
        assert response.headers["x-hygie-policy-decision"] == "reroute"
        assert response.headers["x-hygie-data-class"] == "health"
    assert external[1] == []


@pytest.mark.parametrize("stream", [False, True])
def test_every_form_of_a_pseudonymised_value_comes_back_restored(
    gateways: dict[str, RunningGateway],
    external: tuple[BackgroundServer, list[dict[str, Any]]],
    stream: bool,
) -> None:
    content = (
        f"Mme Jeanne{NBSP}DUPONT (IPP 12345678) : dupont rappelle pour le 12 34 56 78, "
        f"tél. 06{NARROW_NBSP}12{NARROW_NBSP}34{NARROW_NBSP}56{NARROW_NBSP}78 ; née le 12/03/1956."
    )
    response = post(
        gateways["pseudonymise"],
        {
            "model": "cloud-gpt",
            "stream": stream,
            "messages": [{"role": "user", "content": content}],
        },
    )
    assert response.headers["x-hygie-policy-decision"] == "pseudonymise"
    if stream:
        events = [line[6:] for line in response.text.splitlines() if line.startswith("data: {")]
        chunks = [json.loads(event)["choices"] for event in events]
        answer = "".join(c[0]["delta"].get("content") or "" for c in chunks if c)
    else:
        answer = response.json()["choices"][0]["message"]["content"]
    [sent] = external[1]
    out = sent["messages"][0]["content"]
    assert not leaked("PERSON", "Jeanne DUPONT", sent), out
    assert not leaked("IPP", "12345678", sent) and not leaked("PHONE", "0612345678", sent), out
    # The echo, restored: one value has one placeholder, which comes back in the form the value
    # was first written ("12 34 56 78" is the IPP 12345678 again).
    assert answer == content.replace("12 34 56 78", "12345678")
