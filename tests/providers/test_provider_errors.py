"""The mapping from a failed provider call to what the router does with it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.backends.litellm.errors import (
    DeploymentMisconfigured,
    ProviderRateLimited,
    ProviderRejected,
    classify_provider_error,
    provider_message,
)
from gateway.backends.protocol import ReplicaUnreachable


class FakeProviderError(Exception):
    """Shaped like litellm's exceptions: ``status_code``, ``message``, response headers."""

    def __init__(self, status_code: Any, message: str, headers: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.litellm_response_headers = headers


OPENAI_400 = (
    "litellm.BadRequestError: OpenAIException - "
    '{"error": {"message": "max_tokens is too large", "type": "invalid_request_error", '
    '"param": "max_tokens", "code": null}}'
)


def test_a_client_error_keeps_the_provider_message_type_and_param() -> None:
    outcome = classify_provider_error(FakeProviderError(400, OPENAI_400))

    assert isinstance(outcome, ProviderRejected)
    assert outcome.status == 400
    assert orjson.loads(outcome.body) == {
        "error": {
            "message": "max_tokens is too large",
            "type": "invalid_request_error",
            "param": "max_tokens",
            "code": "bad_request",
        }
    }


def test_an_anthropic_stream_error_given_as_a_bytes_literal_is_decoded() -> None:
    body = '{"type": "error", "error": {"type": "invalid_request_error", "message": "trop long é"}}'
    message = f"litellm.BadRequestError: AnthropicException - {body.encode()!r}"

    outcome = classify_provider_error(FakeProviderError(400, message))

    assert isinstance(outcome, ProviderRejected)
    assert outcome.message == "trop long é"


def test_mistral_validation_details_become_the_message() -> None:
    document = {
        "object": "error",
        "message": {"detail": [{"loc": ["body", "seed"], "msg": "Extra inputs are not permitted"}]},
        "type": "invalid_request_error",
    }
    error = FakeProviderError(
        422, "litellm.BadRequestError: MistralException - " + orjson.dumps(document).decode()
    )

    outcome = classify_provider_error(error)

    assert isinstance(outcome, ProviderRejected) and outcome.status == 422
    assert outcome.message == "Extra inputs are not permitted"


def test_a_plain_message_loses_litellm_decorations() -> None:
    error = FakeProviderError(
        400, "litellm.BadRequestError: OpenAIException - prompt is empty. Handle with `litellm.X`"
    )

    assert provider_message(error) == "prompt is empty"


@pytest.mark.parametrize("status", [401, 402, 403, 404])
def test_the_gateway_credential_or_configuration_refused_is_retryable(status: int) -> None:
    outcome = classify_provider_error(FakeProviderError(status, '{"error": {"message": "no"}}'))

    assert isinstance(outcome, DeploymentMisconfigured) and outcome.status == status
    assert isinstance(outcome, ReplicaUnreachable) and not outcome.timed_out


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"retry-after": "7"}, 7.0), ({"retry-after": "soon"}, None), (None, None)],
)
def test_a_rate_limit_carries_the_retry_after_hint(headers: Any, expected: float | None) -> None:
    outcome = classify_provider_error(FakeProviderError(429, "slow down", headers))

    assert isinstance(outcome, ProviderRateLimited)
    assert outcome.retry_after_s == expected


@pytest.mark.parametrize(
    ("status", "timed_out"), [(408, True), (500, False), (503, False), (None, False)]
)
def test_timeouts_server_errors_and_unknown_failures_are_unreachable(
    status: Any, timed_out: bool
) -> None:
    outcome = classify_provider_error(FakeProviderError(status, "Connection error."))

    assert type(outcome) is ReplicaUnreachable
    assert outcome.timed_out is timed_out
