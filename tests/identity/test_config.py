"""The identity settings refuse what would weaken token checks, and load from YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.identity.claims import identity_of
from gateway.identity.config import IssuerConfig
from gateway.settings import Settings


@pytest.mark.parametrize("algorithms", [["HS256"], ["none"], ["RS256", "HS512"], []])
def test_shared_secret_and_unsigned_algorithms_are_refused(algorithms: list[str]) -> None:
    with pytest.raises(ValidationError):
        IssuerConfig(issuer="https://sso.chu.fr/realms/chu", audience="g", algorithms=algorithms)


def test_an_unknown_hygie_role_in_the_mapping_is_refused() -> None:
    with pytest.raises(ValidationError):
        IssuerConfig.model_validate(
            {"issuer": "https://i", "audience": "g", "claims": {"role_values": {"x": "root"}}}
        )


def test_identity_settings_load_from_a_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "identity.yaml"
    path.write_text(
        "issuers:\n"
        "  - issuer: https://login.microsoftonline.com/tenant/v2.0\n"
        "    audience: 6f1c0000-0000-0000-0000-000000000000\n"
        "    claims:\n"
        "      department: null\n"
        "      group_departments: {g-cardio: cardiologie}\n"
        "      role_values: {Hygie.Admin: admin}\n"
    )
    config = Settings(identity_file=path).identity_config()
    [issuer] = config.issuers
    claims = {
        "sub": "s",
        "preferred_username": "dr.martin@chu.fr",
        "groups": ["g-other", "g-cardio"],
        "roles": ["Hygie.Admin", "Unrelated"],
        "exp": 2_000_000_000,
    }
    identity = identity_of(claims, issuer)
    assert (identity.username, identity.department, identity.role) == (
        "dr.martin@chu.fr",
        "cardiologie",
        "admin",
    )
    assert identity.roles == ("member", "admin")
