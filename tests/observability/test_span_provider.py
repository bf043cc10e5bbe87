"""Each request's span names the provider that served it (issue 12), through the whole gateway."""

from __future__ import annotations

import time

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from gateway.catalog import Deployment, parse_catalog
from gateway.http.local_server import BackgroundServer
from tests.conftest import CHAT_MODEL, HEALTH_CLEARED, GatewayFactory
from tests.providers.fake_providers import GATEWAY_SECRET, Recorder, create_fake_providers

pytestmark = [
    # litellm builds a pydantic adapter for Mistral's routing TypedDict on first use; pydantic
    # warns that its ReadOnly items are not enforced. Harmless, but fatal under "warnings are
    # errors" when this test is the first to call Mistral (litellm turns it into a 400).
    pytest.mark.filterwarnings("ignore:.*using the `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211"),
]

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Horaires de la consultation de cardiologie ?"}
]
EU_CLOUD = {"class": "eu_cloud", "cleared_for": ["public", "internal"], "retention": "zero"}


def _providers(received: list[tuple[str, str, bytes]]) -> dict[str, str]:
    """Each exported span's provider name, by request id."""
    providers: dict[str, str] = {}
    for _, _, body in list(received):
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans:
            for scope in resource.scope_spans:
                for span in scope.spans:
                    found = {a.key: a.value.string_value for a in span.attributes}
                    providers[found["hygie.request_id"]] = found["gen_ai.provider.name"]
    return providers


def _spans_of(received: list[tuple[str, str, bytes]], request_ids: list[str]) -> dict[str, str]:
    deadline = time.monotonic() + 10  # the batch processor exports every second
    providers = _providers(received)
    while not set(request_ids) <= providers.keys() and time.monotonic() < deadline:
        time.sleep(0.05)
        providers = _providers(received)
    return {r: providers.get(r, "no span") for r in request_ids}


def test_each_span_names_the_provider_of_the_deployment_that_answered(
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
    collector: tuple[str, list[tuple[str, str, bytes]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint, received = collector
    monkeypatch.setenv("PROVIDER_TEST_KEY", GATEWAY_SECRET)
    with BackgroundServer(create_fake_providers(Recorder())) as fakes:

        def external(name: str, litellm_model: str, api_base: str) -> dict[str, object]:
            deployment = {
                "name": name,
                "kind": "litellm",
                "litellm_model": litellm_model,
                "api_base": f"{fakes.url}{api_base}",
                "api_key_env": "PROVIDER_TEST_KEY",
                "hosting": EU_CLOUD,
            }
            return {"name": name, "deployments": [deployment]}

        catalog = parse_catalog(
            {
                "models": [
                    {
                        "name": CHAT_MODEL,
                        "deployments": [
                            {
                                "name": "sim",
                                "replicas": [f"{simulator.url}/v1"],
                                "hosting": HEALTH_CLEARED,
                            }
                        ],
                    },
                    external("gpt-4o-hdf", "azure/gpt-4o-mini-hdf", "/azure/s/ok"),
                    external("mistral-small", "mistral/mistral-small-latest", "/mistral/s/ok/v1"),
                ]
            }
        )
        gw = start_gateway(catalog, sqlite_url, otlp_endpoint=endpoint)
        client = gw.sdk()
        expected: dict[str, str] = {}
        for model, provider in [
            (CHAT_MODEL, "vllm"),
            ("gpt-4o-hdf", "azure.ai.openai"),
            ("mistral-small", "mistral_ai"),
        ]:
            raw = client.chat.completions.with_raw_response.create(
                model=model, messages=MESSAGES, max_tokens=8
            )
            expected[raw.headers["x-request-id"]] = provider
        with pytest.raises(openai.NotFoundError) as unknown:
            client.chat.completions.create(model="no-such-model", messages=MESSAGES)
        # A request that reached no deployment never left the gateway.
        expected[unknown.value.response.headers["x-request-id"]] = "hygie"

        assert _spans_of(received, list(expected)) == expected


@pytest.mark.parametrize(
    ("litellm_model", "provider"),
    [
        ("azure/gpt-4o", "azure.ai.openai"),
        ("azure_ai/phi-4", "azure.ai.inference"),
        ("bedrock/anthropic.claude-3-haiku", "aws.bedrock"),
        ("vertex_ai/gemini-1.5-pro", "gcp.vertex_ai"),
        ("gemini/gemini-1.5-flash", "gcp.gemini"),
        ("openai/gpt-4o-mini", "openai"),
        ("mistral/mistral-large-latest", "mistral_ai"),
        ("anthropic/claude-3-5-haiku-20241022", "anthropic"),
        ("xai/grok-2", "x_ai"),
        ("groq/llama-3.1-8b-instant", "groq"),  # the same name in both vocabularies
    ],
)
def test_a_litellm_deployment_names_its_semconv_provider(litellm_model: str, provider: str) -> None:
    fields = {"name": "d", "kind": "litellm", "litellm_model": litellm_model}
    deployment = Deployment.model_validate(fields)
    assert deployment.provider == provider


def test_a_vllm_deployment_is_provided_by_vllm() -> None:
    deployment = Deployment.model_validate({"name": "d", "replicas": ["http://10.0.0.7:8000/v1"]})
    assert deployment.provider == "vllm"


def test_the_deployment_of_a_request_is_found_even_under_the_model_it_first_asked_for() -> None:
    azure = {"name": "shared", "kind": "litellm", "litellm_model": "azure/gpt-4o"}
    catalog = parse_catalog(
        {
            "models": [
                {
                    "name": "local",
                    "fallbacks": ["cloud"],
                    "deployments": [{"name": "shared", "replicas": ["http://10.0.0.7:8000/v1"]}],
                },
                {"name": "cloud", "deployments": [azure, {**azure, "name": "cloud-only"}]},
            ]
        }
    )
    # A request cut short while its fallback answered keeps the model it asked for.
    found = catalog.deployment("local", "cloud-only")
    assert found is not None and found.provider == "azure.ai.openai"
    # A name two models share is the requested model's own.
    local, cloud = catalog.deployment("local", "shared"), catalog.deployment("cloud", "shared")
    assert local is not None and local.provider == "vllm"
    assert cloud is not None and cloud.provider == "azure.ai.openai"
    assert catalog.deployment("local", "nowhere") is None
