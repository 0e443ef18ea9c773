"""Canaries for the access matrix: unique strings naming who may see them, written where a
reader sees them, then looked for in every answer the gateway's list and read routes give every
persona of every territory.

`PER_AGENCY` (1,000; `KAMQOR_MATRIX_CANARIES` for a quicker local run) canaries per agency, made
in bulk through the services' gRPC APIs, `BATCH` calls at a time: the title and target of a
measure (100 measures to a plan, for two agencies per territory); the name of a person in the
journal (30 to an appeal) and of a resident (an adult and 20 minors to a stay) for each center;
the name of a family member in Irkutsk's data bank (30 to a family).

Who may see a canary is written down here, from DOMAIN.md, not read from the code under test:

- a measure (`m`): the agency it is assigned to (PLN-15) and the plan's readers in the plan's
  territory (case workers, center heads, commission members, by the plan's id);
- an appeal (`a`) and a stay (`s`): their territory (the journal and the shelter are the
  territory's center's);
- a registered family (`f`, Irkutsk's data bank): the territory's commission, case workers and
  registry office (REG-9 need to know).

A canary string is `CANARY-<kind>-<owner agency>-<territory>-<hex>`; its owner is in the string,
so an answer is checked by finding every canary in its text.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
import httpx

from kamqor.intake.v1 import intake_pb2
from kamqor.plans.v1 import plans_pb2
from kamqor.registry.v1 import registry_pb2
from kamqor.shelter.v1 import shelter_pb2
from tests.plans.factories import in_days, participants
from tests.registry.factories import registration_request
from tests.security.matrix_world import (
    HOME,
    OTHER,
    REGISTRY_HOME,
    SUFFIX,
    USERS,
    Stubs,
    Tokens,
    User,
    user,
)
from tests.support.factories import resident, years_ago
from tests.support.services import bearer

T = TypeVar("T")

# 1,000 per agency in CI; `KAMQOR_MATRIX_CANARIES` makes a quicker local run.
PER_AGENCY = int(os.environ.get("KAMQOR_MATRIX_CANARIES", "1000"))
BATCH = 50  # concurrent gRPC calls
# Canaries go in bulk where the API takes it: up to the services' maximum per record.
MEASURES_PER_PLAN = 100  # measures of a plan (PLN-2)
PERSONS_PER_APPEAL = 30  # persons of an appeal
PERSONS_PER_STAY = 21  # the adult and 20 minors
PERSONS_PER_FAMILY = 30  # members of a family in the data bank
PATTERN = re.compile(r"CANARY-([mafs])-([a-z]+-[a-z]+-\d+)-([a-z]+-[a-z]+)-[0-9a-f]{12}")
PLAN_READERS = ("case-worker", "center-head", "commission-member")
REGISTRY_READERS = ("commission-member", "case-worker")
PURPOSE = "canary check"


def _groups(total: int, size: int) -> list[int]:
    """`total` split into groups of at most `size`."""
    return [min(size, total - i) for i in range(0, total, size)]


def canary(kind: str, agency: str, territory: str) -> str:
    return f"CANARY-{kind}-{agency}-{territory}-{uuid.uuid4().hex[:12]}"


def may_see(reader: User, kind: str, agency: str, territory: str) -> bool:
    if reader.territory != territory:
        return False
    role = reader.persona.role
    if kind == "m":
        return reader.agency == agency or role in PLAN_READERS
    if kind in ("a", "s"):
        return True
    if kind == "f":
        return role in REGISTRY_READERS or reader.persona.agency_type == "registry_office"
    raise AssertionError(kind)


async def retrying(make: Callable[[], Awaitable[T]]) -> T:
    """A call again while a concurrent change wins (ABORTED: the service asks for a retry, and
    the same idempotency key makes it safe)."""
    for attempt in range(30):
        try:
            return await make()
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.ABORTED:
                raise
            await asyncio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    return await make()


async def _batched(calls: Iterable[Awaitable[T]]) -> list[T]:
    pending = list(calls)
    out: list[T] = []
    for i in range(0, len(pending), BATCH):
        out.extend(await asyncio.gather(*pending[i : i + BATCH]))
    return out


@dataclass
class Canaries:
    stub: Stubs
    tokens: Tokens
    strings: set[str] = field(default_factory=set)
    shelters: list[str] = field(default_factory=list)
    # Per kind and territory, the gateway paths that read two canary records by id.
    samples: dict[str, list[str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    records: Counter[str] = field(default_factory=Counter)

    def _new(self, kind: str, agency: str, territory: str) -> str:
        text = canary(kind, agency, territory)
        self.strings.add(text)
        return text

    def _sample(self, kind: str, path: str) -> None:
        kept = self.samples.setdefault(kind, [])
        if len(kept) < 2:
            kept.append(path)

    def _md(self, key: str, territory: str) -> Any:
        return bearer(self.tokens(user(key, territory)))

    async def create(self) -> int:
        """Every agency's canaries; returns how many records carry one."""
        started = time.monotonic()
        await asyncio.gather(self._measures(HOME), self._measures(OTHER))
        self.timings["measures"] = time.monotonic() - started
        started = time.monotonic()
        await asyncio.gather(self._center(HOME), self._center(OTHER))
        self.timings["appeals and stays"] = time.monotonic() - started
        started = time.monotonic()
        await self._families()
        self.timings["families"] = time.monotonic() - started
        return len(self.strings)

    async def _measures(self, territory: str) -> None:
        """PER_AGENCY measures for its education and its police, 100 to a plan, approved."""
        agencies = [(f"{p}-{SUFFIX[territory]}-1", t) for p, t in (("edu", "education"),)]
        agencies.append((f"pol-{SUFFIX[territory]}-1", "police"))
        drafts = [(agency, kind) for agency, kind in agencies for _ in range(PER_AGENCY)]
        worker, head = (
            self._md("case-worker@family_center", territory),
            self._md("center-head@family_center", territory),
        )

        async def plan(chunk: list[tuple[str, str]]) -> None:
            measures = []
            for agency, agency_type in chunk:
                text = self._new("m", agency, territory)
                measures.append(
                    plans_pb2.MeasureDraft(
                        agency_id=agency,
                        agency_type=agency_type,
                        kind=plans_pb2.MEASURE_KIND_SOCIAL,
                        title=text,
                        target=text,
                        deadline=in_days(30),
                    )
                )
            create = plans_pb2.CreatePlanRequest(
                idempotency_key=uuid.uuid4().hex,
                case_id=str(uuid.uuid4()),
                situation=plans_pb2.SITUATION_DLS,
                measures=measures,
                participants=participants(),
            )
            reply = await retrying(lambda: self.stub["plans"].CreatePlan(create, metadata=worker))
            # Only a submitted plan is approved (PLN-4).
            submit = plans_pb2.SubmitPlanRequest(plan_id=reply.plan.id)
            await retrying(lambda: self.stub["plans"].SubmitPlan(submit, metadata=worker))
            approve = plans_pb2.ApprovePlanRequest(plan_id=reply.plan.id, decision="Canary")
            await retrying(lambda: self.stub["plans"].ApprovePlan(approve, metadata=head))
            self.records["measures"] += len(chunk)
            self._sample(f"m:{territory}", f"/v1/plans/{reply.plan.id}")

        chunks = [
            drafts[i : i + MEASURES_PER_PLAN] for i in range(0, len(drafts), MEASURES_PER_PLAN)
        ]
        # Interleave the agencies within a plan: a plan carries measures for several agencies.
        chunks = [drafts[i :: len(chunks)] for i in range(len(chunks))] if chunks else []
        await _batched(plan(c) for c in chunks)

    async def _center(self, territory: str) -> None:
        """The center's half of its canaries in the journal, the other half as its residents."""
        center = f"fc-{SUFFIX[territory]}-1"
        intake = self._md("intake-operator@family_center", territory)
        operator = self._md("shelter-operator@family_center", territory)
        shelter = await self.stub["shelter"].RegisterShelter(
            shelter_pb2.RegisterShelterRequest(
                idempotency_key=uuid.uuid4().hex,
                name=f"Canary shelter {uuid.uuid4().hex[:8]}",
                capacity=10_000,
            ),
            metadata=self._md("center-head@family_center", territory),
        )
        self.shelters.append(shelter.shelter.id)

        async def appeal(size: int) -> None:
            names = [self._new("a", center, territory) for _ in range(size)]
            request = intake_pb2.RegisterAppealRequest(
                idempotency_key=uuid.uuid4().hex,
                channel=intake_pb2.CHANNEL_IN_PERSON,
                summary=f"Appeal {names[0]}",
                persons=[
                    intake_pb2.Person(
                        full_name=name,
                        relation=intake_pb2.RELATION_OTHER,
                        birth_date=years_ago(30),
                    )
                    for name in names
                ],
            )
            reply = await retrying(
                lambda: self.stub["intake"].RegisterAppeal(request, metadata=intake)
            )
            self.records["appeals"] += 1
            self._sample(f"a:{territory}", f"/v1/appeals/{reply.appeal.id}")

        async def stay(size: int) -> None:
            names = [self._new("s", center, territory) for _ in range(size)]
            request = shelter_pb2.AdmitRequest(
                idempotency_key=uuid.uuid4().hex,
                shelter_id=shelter.shelter.id,
                adult=resident(names[0]),
                minors=[resident(name, age=10) for name in names[1:]],
                referral=shelter_pb2.REFERRAL_SELF_APPLICATION,
            )
            reply = await retrying(lambda: self.stub["shelter"].Admit(request, metadata=operator))
            self.records["stays"] += 1
            self._sample(f"s:{territory}", f"/v1/stays/{reply.stay.id}")

        half = PER_AGENCY // 2
        await _batched(
            [
                *(appeal(n) for n in _groups(half, PERSONS_PER_APPEAL)),
                *(stay(n) for n in _groups(PER_AGENCY - half, PERSONS_PER_STAY)),
            ]
        )

    async def _families(self) -> None:
        """Irkutsk's commission registers families whose every member carries a canary; its
        registry office enters them."""
        commission = self._md("commission-member@commission", REGISTRY_HOME)
        office = self._md("agency-coordinator@registry_office", REGISTRY_HOME)
        registry = self.stub["registry"]

        async def family(size: int) -> None:
            request = registration_request()
            template = request.minors[0]
            del request.minors[:]
            del request.relatives[:]
            for _ in range(size):
                member = request.minors.add()
                member.CopyFrom(template)
                member.full_name = self._new("f", "com-irk-1", REGISTRY_HOME)
            reply = await retrying(
                lambda: registry.RecordRegistrationDecision(request, metadata=commission)
            )
            receive = registry_pb2.ReceiveDecisionRequest(decision_id=reply.decision.id)
            await retrying(lambda: registry.ReceiveDecision(receive, metadata=office))
            enter = registry_pb2.EnterFamilyRequest(decision_id=reply.decision.id)
            await retrying(lambda: registry.EnterFamily(enter, metadata=office))
            self.records["families"] += 1
            self._sample("f", f"/v1/registry/families/{reply.family.id}")

        await _batched(family(n) for n in _groups(PER_AGENCY, PERSONS_PER_FAMILY))

    # --- reading ------------------------------------------------------------------------------
    def _reads(self) -> list[tuple[str, str, dict[str, Any] | None, dict[str, Any]]]:
        """(method, path, json, params) of every list and read route's call."""
        lists: list[tuple[str, str, dict[str, Any] | None, dict[str, Any]]] = [
            ("GET", "/v1/appeals", None, {"page_size": 200}),
            ("GET", "/v1/shelters", None, {}),
            ("GET", "/v1/notices", None, {"page_size": 200}),
            ("GET", "/v1/reminders", None, {"page_size": 200}),
            ("GET", "/v1/measures", None, {"page_size": 200}),
            ("GET", "/v1/plans", None, {"page_size": 200}),
            (
                "POST",
                "/v1/registry/families:search",
                {"name": "canary", "purpose": PURPOSE, "page_size": 200},
                {},
            ),
            ("GET", "/v1/reports/deadlines", None, {"from": in_days(-60), "to": in_days(60)}),
            ("GET", "/v1/reports/plans", None, {"from": in_days(-60), "to": in_days(60)}),
            *(
                ("GET", "/v1/stays", None, {"shelter_id": s, "page_size": 200})
                for s in self.shelters
            ),
        ]
        reads = [
            ("GET", path, None, {"purpose": PURPOSE} if "/registry/" in path else {})
            for paths in self.samples.values()
            for path in paths
        ]
        return lists + reads

    async def read_all(self, http: httpx.AsyncClient) -> tuple[int, list[str]]:
        """Every list (all its pages) and read route as every persona of every territory:
        returns the calls made and every canary found where its reader may not see it."""
        leaks: list[str] = []
        calls = 0

        async def as_user(reader: User) -> None:
            nonlocal calls
            headers = {"Authorization": f"Bearer {self.tokens(reader)}"}
            for method, path, body, params in self._reads():
                token = ""
                while True:
                    query = dict(params)
                    payload = dict(body) if body is not None else None
                    if token:
                        if payload is not None:
                            payload["page_token"] = token
                        else:
                            query["page_token"] = token
                    resp = await http.request(
                        method, path, params=query, json=payload, headers=headers
                    )
                    calls += 1
                    for found in PATTERN.finditer(resp.text):
                        kind, agency, territory = found.groups()
                        if not may_see(reader, kind, agency, territory):
                            leaks.append(f"{reader.username} {method} {path}: {found.group(0)}")
                    token = resp.json().get("next_page_token") or "" if resp.is_success else ""
                    if not token:
                        break

        await asyncio.gather(*(as_user(u) for u in USERS))
        return calls, leaks
