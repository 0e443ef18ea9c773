"""Schemathesis over every operation of the served OpenAPI document, against the real stack, with
a token of every role: no 5xx, no response outside its documented status, media type, headers
or schema, and no schema-violating input accepted. Bounded (`KAMQOR_FUZZ_CALLS`, 2,000 calls by
default, split evenly over the operations and over valid and invalid input) and derandomized,
so a run is reproducible and fits CI; it prints its figures.

Schemathesis and requests are synchronous and the suite serves on this test's event loop, so the
run goes to a worker thread while the loop keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import AcceptedNegativeData, Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.harness import Suite
from tests.security.partners import Callers, served_document

pytestmark = [
    pytest.mark.e2e,
    # Schemathesis draws some values with `random` inside its strategies; hypothesis warns.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

CALLS = int(os.environ.get("KAMQOR_FUZZ_CALLS", "2000"))
# Comma-separated path prefixes (`/v1/monitoring-reports,/v1/notices`): only those operations, to
# reproduce a failure quickly; every operation by default. The budget is split over those only.
PATHS = tuple(p for p in os.environ.get("KAMQOR_FUZZ_PATHS", "").split(",") if p)
CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Figures:
    calls: int = 0
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    invalid_accepted: list[str] = field(default_factory=list)
    unauthenticated: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    by_caller: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def report(self) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"schemathesis: {self.calls} calls in {self.seconds:.0f} s, "
            f"{len(self.server_errors)} 5xx, "
            f"{len(self.violations)} schema violations, "
            f"{len(self.invalid_accepted)} invalid inputs accepted; statuses {statuses}; "
            f"callers {dict(sorted(self.by_caller.items()))}"
        )


def _failures(exc: Failure | FailureGroup) -> list[Failure]:
    return list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]


def _run(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    who: st.SearchStrategy[str],
    *,
    examples: int,
    call: Any,
) -> None:
    """Up to `examples` generated requests to one operation in one mode, each through `call`."""

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), name=who)
    def run(case: schemathesis.Case, name: str) -> None:
        call(case, name, mode)

    # No input of this kind at all (a route without parameters has no invalid one): nothing to do.
    with contextlib.suppress(Unsatisfiable):
        run()


def fuzz(document: dict[str, Any], base_url: str, people: Callers, budget: int) -> Figures:
    schema = schemathesis.openapi.from_dict(document)
    # The callers' tokens are the run's to give; schemathesis neither generates nor mutates
    # `Authorization` (it would turn a call into a 401 before it reaches anything).
    schema.config.generation.update(with_security_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    if PATHS:
        operations = [o for o in operations if o.path.startswith(PATHS)]
    figures = Figures()
    everyone = sorted(people.names)
    session = requests.Session()

    def call(case: schemathesis.Case, name: str, mode: GenerationMode) -> None:
        if figures.calls >= budget:
            return
        headers = {"Authorization": f"Bearer {people.token(name)}"}
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        figures.calls += 1
        figures.by_caller[name] += 1
        figures.statuses[response.status_code] += 1
        label = f"{case.method} {case.formatted_path} as {name} ({mode.value})"
        if response.status_code >= 500:
            figures.server_errors.append(f"{label}: {response.status_code}")
        if response.status_code == 401 and len(figures.unauthenticated) < 5:
            figures.unauthenticated.append(f"{label}: {response.text[:300]}")
        checks = [*CONFORMANCE, negative_data_rejection] if mode.is_negative else CONFORMANCE
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (Failure, FailureGroup) as exc:
            for failure in _failures(exc):
                bucket = (
                    figures.invalid_accepted
                    if isinstance(failure, AcceptedNegativeData)
                    else figures.violations
                )
                bucket.append(f"{label}: {failure.title}: {failure.message}"[:2000])

    examples = max(1, budget // (2 * len(operations)))
    for operation in operations:
        roles = set(operation.definition.raw.get("x-required-roles", ()))
        allowed = sorted(n for n, r in people.roles.items() if r & roles) or everyone
        # Mostly callers the route admits (to reach the service), the rest anyone at all.
        who = st.one_of(
            st.sampled_from(allowed), st.sampled_from(allowed), st.sampled_from(everyone)
        )
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, who, examples=examples, call=call)
    session.close()
    return figures


async def test_fuzzing_every_operation_with_every_role(
    suite: Suite, capsys: pytest.CaptureFixture[str]
) -> None:
    document = await served_document(suite)
    people = Callers(suite)
    assert {r for roles in people.roles.values() for r in roles} >= {
        "hotline-operator",
        "intake-operator",
        "shelter-operator",
        "case-worker",
        "center-head",
        "agency-coordinator",
        "agency-assignee",
        "commission-member",
        "analyst",
        "auditor",
        "partner-system",
    }
    started = time.monotonic()
    figures = await asyncio.to_thread(fuzz, document, suite.base_url, people, CALLS)
    figures.seconds = time.monotonic() - started
    with capsys.disabled():  # the figures go to CI's log, passed or not
        print("\n" + figures.report())  # noqa: T201
        lines = [*figures.server_errors, *figures.violations, *figures.invalid_accepted]
        for line in [*lines[:20], *figures.unauthenticated]:
            print("  " + line)  # noqa: T201
    assert figures.calls >= min(CALLS, 500) // 2, "the run made too few calls to mean anything"
    if not PATHS:  # a few operations need not reach every role
        assert set(figures.by_caller) == set(people.names), "every role called"
    assert figures.server_errors == []
    assert figures.violations == []
    assert figures.invalid_accepted == []
