"""Territories and the policy profile each one is configured with (ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from kamqor.errors import Invalid


@dataclass(frozen=True)
class Territory:
    code: str
    name: str
    profile: str
    center: str


@cache
def _all() -> dict[str, Territory]:
    raw = yaml.safe_load(resources.files("kamqor").joinpath("territories.yaml").read_text())
    return {
        code: Territory(code=code, name=v["name"], profile=v["profile"], center=v["center"])
        for code, v in raw.items()
    }


def territory(code: str) -> Territory:
    try:
        return _all()[code]
    except KeyError:
        raise Invalid("territory", f"unknown territory {code!r}") from None


def all_territories() -> list[Territory]:
    return list(_all().values())
