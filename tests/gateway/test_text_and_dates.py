"""Text with control characters and implausible birth dates are a 422 naming the field, before
any service is called; every text field of every request body is covered."""

from __future__ import annotations

import json
import types
import typing
from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from gateway.schemas import intake, plans, registry, shelter
from gateway.schemas.common import BirthDate, FreeText, Line
from kamqor.clock import utcnow
from kamqor.inputs import years_before
from tests.gateway.conftest import Gateway, bearer
from tests.gateway.doubles import appeal_body, stay_body
from tests.gateway.test_bodies import fields, post_stay

ADULT = {"full_name": "Dana K.", "birth_date": "1990-05-14"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (stay_body(adult={**ADULT, "full_name": "Ali\u0000ya"}), "adult.full_name"),
        (stay_body(adult={**ADULT, "full_name": "Ali\nya"}), "adult.full_name"),
        (stay_body(adult={**ADULT, "full_name": "Ali\tya"}), "adult.full_name"),
        (stay_body(adult={**ADULT, "full_name": "Ali\u0085ya"}), "adult.full_name"),
        (stay_body(adult={**ADULT, "full_name": "Ali\ud800ya"}), "adult.full_name"),
        (
            stay_body(minors=[{"full_name": "\u001bAru", "birth_date": "2020-01-09"}]),
            "minors[0].full_name",
        ),
    ],
)
async def test_control_characters_in_a_name_are_refused(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    # Escaped as JSON allows it (a lone surrogate too): what a client's encoder sends.
    response = await post_stay(gateway, json.dumps(body).encode(), "application/json")
    assert fields(response) == [field]
    message = response.json()["errors"][0]["message"]
    assert "U+" in message or "unicode" in message  # pydantic itself refuses a lone surrogate
    assert gateway.services.recorder.calls == []


async def test_free_text_keeps_line_breaks_and_tabs_but_no_other_control(
    intake_up: Gateway,
) -> None:
    summary = "Line one.\r\nLine two:\tindented."
    response = await intake_up.http.post(
        "/v1/appeals", json=appeal_body(summary=summary), headers=bearer("hotline")
    )
    assert response.status_code == 201, response.text
    [(_, request, _)] = intake_up.services.recorder.calls
    assert request.summary == summary
    response = await intake_up.http.post(
        "/v1/appeals", json=appeal_body(summary="Line\u0000one"), headers=bearer("hotline")
    )
    assert fields(response) == ["summary"]
    assert len(intake_up.services.recorder.calls) == 1


async def test_control_characters_in_a_query_parameter_are_refused(gateway: Gateway) -> None:
    response = await gateway.http.get("/v1/notices?page_token=a%00b", headers=bearer("police"))
    assert fields(response) == ["page_token"]
    assert gateway.services.recorder.calls == []


async def test_control_characters_in_the_idempotency_key_are_refused(gateway: Gateway) -> None:
    response = await gateway.http.post(
        "/v1/stays",
        json=stay_body(),
        headers={**bearer("shelter-op"), "Idempotency-Key": "key\tone"},
    )
    assert fields(response) == ["Idempotency-Key"]


def _today() -> date:
    return utcnow().date()


@pytest.mark.parametrize(
    ("birth_date", "message"),
    [
        ("1850-03-01", "more than 120 years ago"),
        (lambda: years_before(_today(), 120) - timedelta(days=2), "more than 120 years ago"),
        (lambda: _today() + timedelta(days=2), "in the future"),
    ],
)
async def test_implausible_birth_dates_are_refused(
    gateway: Gateway, birth_date: Any, message: str
) -> None:
    value = birth_date() if callable(birth_date) else birth_date
    body = stay_body(adult={**ADULT, "birth_date": str(value)})
    response = await gateway.http.post("/v1/stays", json=body, headers=bearer("shelter-op"))
    assert fields(response) == ["adult.birth_date"]
    assert message in response.json()["errors"][0]["message"]
    assert gateway.services.recorder.calls == []


async def test_the_oldest_and_the_youngest_plausible_birth_dates_pass(gateway: Gateway) -> None:
    oldest = years_before(_today(), 120) + timedelta(days=1)
    newborn = _today() - timedelta(days=1)
    body = stay_body(
        adult={**ADULT, "birth_date": oldest.isoformat()},
        minors=[{"full_name": "Aru K.", "birth_date": newborn.isoformat()}],
    )
    response = await gateway.http.post("/v1/stays", json=body, headers=bearer("shelter-op"))
    assert response.status_code == 201, response.text


# --- coverage of every request body ---------------------------------------------------------

_TEXT_CHECKS = {typing.get_args(Line)[1], typing.get_args(FreeText)[1]}
_BIRTH_CHECK = typing.get_args(BirthDate)[1]


def _request_models() -> list[type[BaseModel]]:
    """Every request body model: they alone refuse unknown fields."""
    return [
        value
        for module in (intake, plans, registry, shelter)
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.model_config.get("extra") == "forbid"
    ]


def _parts(hint: Any) -> list[tuple[Any, tuple[Any, ...]]]:
    """(type, its Annotated metadata) for each member of `X | Y | None`."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return [part for arg in typing.get_args(hint) for part in _parts(arg)]
    if typing.get_origin(hint) is typing.Annotated:
        base, *meta = typing.get_args(hint)
        return [(base, tuple(meta))]
    return [(hint, ())]


def test_every_text_and_birth_date_field_of_a_request_is_checked() -> None:
    models = _request_models()
    assert len(models) >= 15
    texts = births = 0
    for model in models:
        for name, hint in typing.get_type_hints(model, include_extras=True).items():
            for base, meta in _parts(hint):
                if base is str:
                    assert _TEXT_CHECKS & set(meta), f"{model.__name__}.{name} is a bare str"
                    texts += 1
                if name == "birth_date" and base is date:
                    assert _BIRTH_CHECK in meta, f"{model.__name__}.{name} is a bare date"
                    births += 1
    assert (texts, births) >= (25, 3)
