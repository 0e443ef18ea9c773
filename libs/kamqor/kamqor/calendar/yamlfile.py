"""Reading the kit's YAML data files, with errors that name the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

_KIT_ROOT = Path(__file__).resolve().parent.parent
Model = TypeVar("Model", bound=BaseModel)


def display_path(path: Path) -> str:
    """Kit data files as `profiles/data/kz.yaml`; anything else as given."""
    try:
        return path.resolve().relative_to(_KIT_ROOT).as_posix()
    except ValueError:
        return str(path)


def read_mapping(path: Path, error: type[Exception]) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{display_path(path)}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise error(f"{display_path(path)}{line}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise error(f"{display_path(path)}: expected a mapping at the top level")
    return raw


def key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _problem(err: dict[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "greater_than":
        return f"must be > {ctx['gt']}"
    if kind == "greater_than_equal":
        return f"must be >= {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be <= {ctx['le']}"
    if kind == "less_than":
        return f"must be < {ctx['lt']}"
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return str(err["msg"])


def validate(
    model: type[Model], raw: Any, path: Path, error: type[Exception], *, prefix: str = ""
) -> Model:
    """Validate `raw` against `model`; on failure raise `error` naming file, key and problem."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        file = display_path(path)
        lines = [f"{file}: {prefix}{key_path(e['loc'])}: {_problem(dict(e))}" for e in exc.errors()]
        raise error("; ".join(lines)) from None
