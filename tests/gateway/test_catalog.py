"""Configuration validation names the bad field."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.catalog import ConfigError, load_catalog, parse_catalog
from policies.data_class import DataClass
from policies.hosting import HostingClass


def test_valid_configuration() -> None:
    catalog = parse_catalog(
        {
            "models": [
                {
                    "name": "m",
                    "deployments": [
                        {
                            "name": "d",
                            "replicas": ["http://10.0.0.1:8000/v1/"],
                            "hosting": {"class": "hds_certified", "cleared_for": ["health"]},
                        }
                    ],
                }
            ]
        }
    )
    deployment = catalog.models[0].deployments[0]
    assert deployment.replica_urls() == ["http://10.0.0.1:8000/v1"]
    assert deployment.hosting.hosting_class is HostingClass.HDS_CERTIFIED
    assert deployment.hosting.is_cleared_for(DataClass.HEALTH)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"models": [{"name": "m", "deployments": [{"name": "d", "replicas": ["nope"]}]}]},
            "models[0].deployments[0].replicas[0]",
        ),
        (
            {
                "models": [
                    {
                        "name": "m",
                        "deployments": [
                            {
                                "name": "d",
                                "replicas": ["http://a/v1"],
                                "timeouts": {"connect_s": -1},
                            }
                        ],
                    }
                ]
            },
            "models[0].deployments[0].timeouts.connect_s",
        ),
        (
            {
                "models": [
                    {
                        "name": "m",
                        "deployments": [
                            {"name": "d", "replicas": ["http://a/v1"], "hosting": {"class": "moon"}}
                        ],
                    }
                ]
            },
            "models[0].deployments[0].hosting.class",
        ),
        (
            {
                "models": [
                    {
                        "name": "m",
                        "deployments": [
                            {
                                "name": "d",
                                "replicas": ["http://a/v1"],
                                "hosting": {"cleared_for": ["secret"]},
                            }
                        ],
                    }
                ]
            },
            "models[0].deployments[0].hosting.cleared_for",
        ),
        (
            {
                "models": [
                    {
                        "name": "m",
                        "deployments": [{"name": "d", "replicas": ["http://a/v1"]}],
                        "colour": "blue",
                    }
                ]
            },
            "models[0].colour",
        ),
        ({"models": [{"name": "m", "deployments": [{"name": "d"}]}]}, "models[0].deployments[0]"),
    ],
)
def test_errors_name_the_field(data: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_catalog(data)
    assert expected in str(caught.value)


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalog(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_catalog(bad)


def test_duplicate_models_and_unknown_alternative_are_rejected() -> None:
    deployment = {"name": "d", "replicas": ["http://a/v1"]}
    with pytest.raises(ConfigError, match="declared twice"):
        parse_catalog({"models": [{"name": "m", "deployments": [deployment]}] * 2})
    with pytest.raises(ConfigError, match="sovereign_alternative"):
        parse_catalog(
            {"models": [{"name": "m", "sovereign_alternative": "x", "deployments": [deployment]}]}
        )
