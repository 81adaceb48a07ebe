"""Schemathesis over the reference exchange: every operation of exchange/openapi.yaml, fed generated input.

Why: the contract is what other exchanges and the assistant rely on, and hand-written tests only try
the inputs their authors thought of. Here every operation gets schema-valid and schema-breaking
bodies, parameters and headers (with the API key, so the checks reach past authentication), on the
real aiohttp server over a seeded SQLite copy. Each response must be no 5xx, carry a documented
status and content type, and match its schema. Examples are bounded and the seed fixed, so the run
is repeatable and short.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis

from tests.conftest import API_KEY, ServerThread
from tests.support.figures import report

OPENAPI = Path(__file__).resolve().parents[1] / "exchange" / "openapi.yaml"
SEED = 20261123
MAX_EXAMPLES = 25


@pytest.fixture
def exchange_schema(exchange_server: ServerThread) -> schemathesis.BaseSchema:
    """The contract, pointed at the live server, with the key, a fixed seed and a bounded budget."""
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "base-url": exchange_server.url,
        # The real key for the apiKey scheme: cases get past the 401, and ignored_auth still probes without it.
        "auth": {"openapi": {"apiKey": {"api_key": API_KEY}}},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        "request-timeout": 10,
        # Semantic checks (a real mobile number, an existing township, known domain codes, q or domain)
        # refuse some schema-valid input with a documented 422, which OpenAPI 3.0 cannot express.
        "checks": {"positive_data_acceptance": {"enabled": False}},
    })
    return schemathesis.openapi.from_path(OPENAPI, config=config)


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Counter[str]:
    """Cases and failures per operation, printed once the module is done."""
    counts: Counter[str] = Counter()
    yield counts
    operations = {key.partition(" ")[2] for key in counts}
    failing = {key.partition(" ")[2] for key in counts if key.startswith("failed ")}
    report(request.config, "exchange fuzz", {
        "operations": len(operations), "cases": sum(v for k, v in counts.items() if k.startswith("ran ")),
        "failing cases": sum(v for k, v in counts.items() if k.startswith("failed ")),
        "failing operations": len(failing)})


schema = schemathesis.pytest.from_fixture("exchange_schema")


@schema.parametrize()
def test_every_operation_survives_generated_input(case: schemathesis.Case, tally: Counter[str]) -> None:
    tally[f"ran {case.operation.label}"] += 1
    try:
        case.call_and_validate()
    except BaseException:
        tally[f"failed {case.operation.label}"] += 1
        raise
