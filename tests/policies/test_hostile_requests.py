"""Identifiers hidden where a request's walk used not to look, or in a second form.

Each test is a case of the adversarial suite that once reached an external provider in clear;
with the real detector, classification must see it (so the policy refuses or reroutes) and
pseudonymisation must replace it, every mention of it included.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.classify import Classification, ClassificationRules, classify
from policies.data_class import DataClass
from policies.phi import PhiDetector
from policies.phi.normalise import normalise
from policies.pseudonymise import pseudonymise
from policies.request_texts import MAX_DEPTH, RequestTooDeep, iter_texts

detector = PhiDetector()
NBSP, NARROW_NBSP, THIN, ZERO_WIDTH = "\u00a0", "\u202f", "\u2009", "\u200b"


def classified(body: dict[str, Any]) -> Classification:
    return classify(iter_texts("chat", body), detector, ClassificationRules())


def chat(content: str = "Synthèse, s'il te plaît.", **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": content}], **extra}


def sent(body: dict[str, Any]) -> str:
    """What would leave the gateway after pseudonymisation, normalised for searching."""
    result = pseudonymise(body, classified(body))
    return normalise(json.dumps(result.body, ensure_ascii=False)).text


def has_digits(digits: str, text: str) -> bool:
    return re.search(r"[^0-9A-Za-z]{0,3}".join(digits), text) is not None


@pytest.mark.parametrize(
    "body",
    [
        # Object keys.
        chat(metadata={"Mme Jeanne DUPONT": "à rappeler"}),
        # Numbers: an IPP under its key, a NIR (checksum) anywhere.
        chat(metadata={"ipp": 12345678}),
        chat(metadata={"refs": [256037511200460]}),
        # Strings under "id" keys, unknown fields, tool and response_format schemas.
        chat(metadata={"id": "IPP 12345678"}),
        chat(x_dossier={"texte": "IPP 12345678"}),
        chat(tools=[{"type": "function", "function": {"description": "IPP 12345678"}}]),
        chat(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "r", "schema": {"description": "Mme Jeanne DUPONT"}},
            }
        ),
        # A type that is not protocol vocabulary.
        chat(response_format={"type": "Mme Jeanne DUPONT"}),
        # A file name beside an unreadable file.
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "file", "file": {"filename": "IPP 12345678.pdf", "file_data": "x"}}
                    ],
                }
            ],
        },
    ],
    ids=[
        "key", "number-under-ipp", "nir-number", "id", "unknown-field", "tool-schema",
        "response-format", "type", "file-name",
    ],
)  # fmt: skip
def test_identifiers_anywhere_in_the_body_make_it_health_data(body: dict[str, Any]) -> None:
    assert classified(body).data_class is DataClass.HEALTH


@pytest.mark.parametrize(
    ("key", "value", "entity"),
    [
        ("ipp", "12345678", "IPP"),
        ("nda", "987654321", "NDA"),
        ("ddn", "12/03/1956", "BIRTHDATE"),
        ("date_naissance", "1956-03-12", "BIRTHDATE"),
        ("nom", "dupont", "PERSON"),
        ("Prénom", "jeanne", "PERSON"),
        ("telephone", "0612345678", "PHONE"),
    ],
)
def test_keys_of_a_json_tool_result_say_what_their_values_are(
    key: str, value: str, entity: str
) -> None:
    result = json.dumps({"resultat": "ok", key: value}, ensure_ascii=False)
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "Cherche le patient."},
            {"role": "tool", "tool_call_id": "c", "content": result},
        ],
    }
    assert entity in classified(body).entity_counts
    assert value not in sent(body)


def test_a_second_mention_in_another_form_is_replaced_too() -> None:
    body = chat(
        "Dossier de Mme Jeanne DUPONT, IPP 12345678, tél. 06 12 34 56 78.",
        metadata={
            "note": "dupont rappelle ; jeanne aussi",
            "ref": f"12{NBSP}34{THIN}56{ZERO_WIDTH}78",
            "tel": "+33 6 12 34 56 78",
            "dupont": "clé",
        },
    )
    out = sent(body)
    assert not re.search(r"(?i)dupont|jeanne", out), out
    assert not has_digits("12345678", out) and not has_digits("612345678", out), out


def test_a_name_field_is_replaced_whole() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "name": "Jeanne_DUPONT", "content": "Mme Jeanne DUPONT a appelé."}
        ],
    }
    result = pseudonymise(body, classified(body))
    name = result.body["messages"][0]["name"]
    assert re.fullmatch(r"PERSON_[0-9]+", name), name


def test_tool_arguments_stay_json_with_every_mention_replaced() -> None:
    arguments = json.dumps({"patient": "Mme Hélène MOREAU", "q": "moreau, hélène"})
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "Dossier de Mme Hélène MOREAU."},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {"name": "f", "arguments": arguments},
                    }
                ],
            },
        ],
    }
    result = pseudonymise(body, classified(body))
    new = result.body["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert not re.search(
        r"(?i)moreau|h\w+l\w+ne", json.loads(new)["q"] + json.loads(new)["patient"]
    )
    assert result.pseudonyms.restore(json.loads(new)["patient"]).endswith("MOREAU")


def test_a_number_under_an_identifier_key_stays_json_once_replaced() -> None:
    document = json.dumps({"ipp": 12345678, "valeur": 54})
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "Cherche."},
            {
                "role": "assistant",
                "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": document}}],
            },
            {"role": "tool", "tool_call_id": "c", "content": document},
        ],
    }
    result = pseudonymise(body, classified(body))
    messages = result.body["messages"]
    for text in (messages[1]["tool_calls"][0]["function"]["arguments"], messages[2]["content"]):
        parsed = json.loads(text)
        assert re.fullmatch(r"\[IPP_[0-9]+\]", parsed["ipp"]) and parsed["valeur"] == 54
        assert result.pseudonyms.restore(parsed["ipp"]) == "12345678"


def test_a_body_deeper_than_the_limit_is_refused_not_walked_recursively() -> None:
    deep: Any = "x"
    for _ in range(MAX_DEPTH + 10):
        deep = [deep]
    with pytest.raises(RequestTooDeep):
        iter_texts("chat", chat(metadata={"x": deep}))


# Inside the number: invisible characters (the IPP finder reads no visible space inside an IPP);
# between keyword and number: any space.
FORMS = [ZERO_WIDTH, "\u00ad", "\u2060", ""]
FULLWIDTH = {ord("0") + d: 0xFF10 + d for d in range(10)}


@settings(max_examples=200, deadline=None)
@given(
    digits=st.integers(10_000_000, 99_999_999).map(str),
    separator=st.sampled_from(FORMS),
    space=st.sampled_from([" ", NBSP, NARROW_NBSP, THIN]),
    fullwidth=st.booleans(),
    first_place=st.sampled_from(["content", "system", "metadata", "key", "tool", "number"]),
    second_place=st.sampled_from(["content", "metadata", "key", "tool_arguments", "name"]),
)
def test_an_ipp_never_leaves_in_any_form_from_any_place(
    digits: str,
    separator: str,
    space: str,
    fullwidth: bool,
    first_place: str,
    second_place: str,
) -> None:
    written = separator.join(digits[i : i + 2] for i in range(0, 8, 2))
    if fullwidth:
        written = written.translate(FULLWIDTH)
    first = f"IPP{space}{written}"
    body: dict[str, Any] = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Assistant."},
            {"role": "user", "content": "Synthèse."},
        ],
        "metadata": {},
    }
    messages = body["messages"]
    if first_place == "content":
        messages[1]["content"] = f"Dossier {first}."
    elif first_place == "system":
        messages[0]["content"] = f"Contexte : {first}."
    elif first_place == "metadata":
        body["metadata"]["dossier"] = first
    elif first_place == "key":
        body["metadata"][first] = "oui"
    elif first_place == "tool":
        messages.append(
            {"role": "tool", "tool_call_id": "c", "content": json.dumps({"ipp": digits})}
        )
    else:
        body["metadata"]["ipp"] = int(digits)
    second = " ".join(digits[i : i + 2] for i in range(0, 8, 2))
    if second_place == "content":
        messages[1]["content"] += f" Voir {second}."
    elif second_place == "metadata":
        body["metadata"]["voir"] = second
    elif second_place == "key":
        body["metadata"][second] = 1
    elif second_place == "tool_arguments":
        call = {"name": "f", "arguments": json.dumps({"q": second})}
        messages.append({"role": "assistant", "tool_calls": [{"id": "c", "function": call}]})
    else:
        messages[1]["name"] = f"ref_{digits}"

    assert classified(body).data_class is DataClass.HEALTH  # deny / reroute see it
    assert not has_digits(digits, sent(body))  # pseudonymisation leaves none of it
