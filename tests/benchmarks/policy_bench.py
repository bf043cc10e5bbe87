"""Benchmark (not a test): cost of one sovereignty decision with twenty rules.

Run: .venv/bin/python -m tests.benchmarks.policy_bench
"""

from __future__ import annotations

import statistics
import time

from policies.rules import PrincipalAttrs
from tests.policies.test_rules import (
    EXTERNAL_POLICY,
    HEALTH,
    make_classification,
    make_deployment,
    make_engine,
    us,
)


def main() -> None:
    rules = [
        {
            "name": f"dept-{i}",
            "match": {
                "departments": [f"service-{i}", f"pole-{i}-*"],
                "data_class": {"min": "personal"},
            },
            "action": "deny",
        }
        for i in range(16)
    ]
    engine = make_engine(*rules, *EXTERNAL_POLICY)
    deployments = [
        make_deployment("onprem-1", "gpt"),
        make_deployment("onprem-2", "gpt"),
        us("us-1"),
        us("us-2"),
    ]
    classification = make_classification(HEALTH)
    principal = PrincipalAttrs(department="urgences", use_case="synthese", role="medecin")
    batches = []
    for _ in range(15):
        start = time.perf_counter()
        for _ in range(1000):
            engine.allowed_deployments(classification, principal, "gpt", deployments)
        batches.append((time.perf_counter() - start) * 1000 / 1000)
    print(
        "policy decision, 20 rules, 4 deployments: "
        f"median {statistics.median(batches) * 1000:.1f} us, best {min(batches) * 1000:.1f} us"
    )


if __name__ == "__main__":
    main()
