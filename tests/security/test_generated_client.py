"""A partner's client, generated from the served OpenAPI document with openapi-python-client:
the generator must print no warning (a warning is a model or an operation it dropped), and the
foundation scenario must run on the real stack through the generated typed functions and models
only: register a shelter, admit a mother with two children, the police reads the SHL-3 notice
and acknowledges it."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.e2e.harness import Suite
from tests.security.partners import served_document
from tests.support.factories import years_ago

pytestmark = pytest.mark.e2e

PACKAGE = "kamqor_partner_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


async def generate(document: dict[str, Any], root: Path) -> tuple[int, str]:
    spec = root / "openapi.json"
    spec.write_text(json.dumps(document))
    # The generator knows binary bodies only as `application/octet-stream`: a partner maps the
    # notice letter's `application/pdf` onto it (the client then returns a `File`).
    config = root / "generator.json"
    config.write_text(
        json.dumps({"content_type_overrides": {"application/pdf": "application/octet-stream"}})
    )
    # The generator formats its output with ruff (post hooks): the environment's own.
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = await asyncio.create_subprocess_exec(
        str(GENERATOR),
        "generate",
        "--path",
        str(spec),
        "--output-path",
        str(root / PACKAGE),
        "--meta",
        "none",
        "--config",
        str(config),
        "--fail-on-warning",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.fixture(scope="module")
def import_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("partner")
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_the_generated_client_walks_the_scenario(
    suite: Suite, import_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = await generate(await served_document(suite), import_root)
    lines = [line for line in output.splitlines() if line.strip()]
    with capsys.disabled():
        print(f"\nopenapi-python-client: exit {code}, {len(lines)} lines: {lines}")  # noqa: T201
    assert code == 0, output
    assert lines == [f"Generating {import_root / PACKAGE}"], "the generator warned:\n" + output

    client_module = module("client")
    models = module("models")
    register_shelter = module("api.shelters.register_shelter")
    admit_to_shelter = module("api.stays.admit_to_shelter")
    list_notices = module("api.notices.list_notices")
    acknowledge_notice = module("api.notices.acknowledge_notice")

    def client(username: str) -> Any:
        return client_module.AuthenticatedClient(
            base_url=suite.base_url, token=suite.token(username), timeout=httpx.Timeout(30)
        )

    # The head of the center declares a shelter.
    async with client("head.ast") as head:
        shelter = await register_shelter.asyncio(
            client=head,
            body=models.ShelterIn(name=f"Partner shelter {uuid.uuid4().hex[:6]}", capacity=5),
        )
    assert isinstance(shelter, models.Shelter), shelter

    # The shelter operator admits a mother with two children (SHL-3 then notifies the police).
    async with client("shelter.ast") as operator:
        stay = await admit_to_shelter.asyncio(
            client=operator,
            idempotency_key=uuid.uuid4().hex,
            body=models.StayIn(
                shelter_id=shelter.id,
                adult=models.ResidentIn(
                    full_name="Partner Mother", birth_date=date.fromisoformat(years_ago(31))
                ),
                minors=[
                    models.ResidentIn(
                        full_name="Partner Child One", birth_date=date.fromisoformat(years_ago(4))
                    ),
                    models.ResidentIn(
                        full_name="Partner Child Two", birth_date=date.fromisoformat(years_ago(9))
                    ),
                ],
                referral=models.Referral.SELF_APPLICATION,
            ),
        )
    assert isinstance(stay, models.Stay), stay
    assert stay.state == models.StayState.ACTIVE and len(stay.minors) == 2

    # The notice reaches the police (over NATS): the police lists its pending notices, page by
    # page with the opaque token, until the stay's notice is there; then acknowledges it.
    subject = f"stay/{stay.id}"
    async with client("police.ast") as police:
        notice = None
        for _ in range(100):
            token: Any = module("types").UNSET
            while notice is None:
                page = await list_notices.asyncio(
                    client=police, state=models.NoticeState.PENDING, page_token=token
                )
                assert isinstance(page, models.NoticePage), page
                notice = next((n for n in page.items if n.subject == subject), None)
                if not isinstance(page.next_page_token, str):
                    break
                token = page.next_page_token
            if notice is not None:
                break
            await asyncio.sleep(0.1)
        assert notice is not None, "no SHL-3 notice reached the police"
        assert notice.rule == "SHL-3" and notice.recipient_agency_type == "police"

        acknowledged = await acknowledge_notice.asyncio(client=police, notice_id=notice.id)
    assert isinstance(acknowledged, models.Notice), acknowledged
    assert acknowledged.state == models.NoticeState.ACKNOWLEDGED
    assert acknowledged.acknowledged_by_agency == "pol-ast-1"
