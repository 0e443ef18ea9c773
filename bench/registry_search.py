# ruff: noqa: RUF001 - Cyrillic and Kazakh letters on purpose
"""Registry name search at 100 k and 1 M persons: p50/p95 of `SearchFamilies` over gRPC, with
exact names, typos (two letters swapped: `маскимов`), Latin transliterations (`Maksimov`),
Kazakh letters written plainly, and with a birth date.

Families are loaded straight into the registry's tables (COPY), three persons each, 90 % in the
searching territory; the registry computes the normalised name itself (a generated column).
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import grpc

from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.registry.v1 import registry_pb2_grpc

ROOTS = [
    "Иван",
    "Петр",
    "Сидор",
    "Смирн",
    "Кузнец",
    "Попов",
    "Васил",
    "Павл",
    "Семен",
    "Голуб",
    "Виноград",
    "Богдан",
    "Воробь",
    "Федор",
    "Михайл",
    "Беля",
    "Тарас",
    "Белоус",
    "Комар",
    "Орл",
    "Киселев",
    "Макар",
    "Андре",
    "Ковал",
    "Ильин",
    "Гусев",
    "Титов",
    "Кузьмин",
    "Кудрявц",
    "Баран",
    "Куликов",
    "Алексе",
    "Степан",
    "Яковл",
    "Сорокин",
    "Сергеев",
    "Роман",
    "Захар",
    "Борисов",
    "Королев",
    "Герасим",
    "Пономар",
    "Григорь",
    "Лазар",
    "Медвед",
    "Ершов",
    "Никитин",
    "Соболев",
    "Рябов",
    "Поляков",
    "Цветков",
    "Данилов",
    "Жуков",
    "Фролов",
    "Журавл",
    "Николаев",
    "Крылов",
    "Максим",
    "Сидоренк",
    "Осипов",
    "Белов",
    "Федот",
    "Дорофе",
    "Егоров",
    "Матвеев",
    "Бобров",
    "Дмитри",
    "Калинин",
    "Анисимов",
    "Петух",
    "Антонов",
    "Тимофе",
    "Никифор",
    "Веселов",
    "Филиппов",
    "Марков",
    "Большак",
    "Суханов",
    "Миронов",
    "Ширяев",
    "Александр",
    "Коновал",
    "Шестак",
    "Казак",
    "Ефим",
    "Денисов",
    "Громов",
    "Фомин",
    "Давыдов",
    "Мельник",
    "Щербак",
    "Блинов",
    "Колесник",
    "Карпов",
    "Афанасьев",
    "Власов",
    "Маслов",
    "Исаков",
    "Тихонов",
    "Аксенов",
    "Гаврилов",
    "Родионов",
    "Котов",
    "Горбунов",
    "Кудряш",
    "Быков",
    "Зуев",
    "Третьяк",
    "Савельев",
    "Панов",
    "Рыбаков",
    "Суворов",
    "Абрамов",
    "Воронов",
    "Мухин",
    "Архип",
    "Трофим",
    "Мартын",
    "Емельян",
    "Горшков",
    "Чернов",
    "Овчинник",
    "Селезн",
    "Панфил",
    "Копылов",
    "Михеев",
    "Галкин",
    "Назаров",
    "Лобанов",
    "Лукин",
    "Беляков",
    "Потапов",
    "Некрасов",
    "Хохлов",
    "Жданов",
]
KAZAKH = [
    "Нұрлан",
    "Әлі",
    "Серік",
    "Жұмабай",
    "Қасым",
    "Төлеген",
    "Ерлан",
    "Бақыт",
    "Ғабит",
    "Сәбит",
    "Мұрат",
    "Дәулет",
    "Асқар",
    "Бекет",
    "Өмірзақ",
    "Үсен",
    "Құдайберген",
    "Әбілқасым",
    "Шәріп",
    "Жақсыбек",
    "Ыбырай",
    "Тұрсын",
    "Байғали",
    "Нұрғали",
]
SUFFIXES = ("ов", "ев", "ин", "енко", "ский", "ович")
GIVEN = [
    "Иван",
    "Пётр",
    "Алексей",
    "Сергей",
    "Дмитрий",
    "Андрей",
    "Максим",
    "Кирилл",
    "Артём",
    "Михаил",
    "Елена",
    "Ольга",
    "Мария",
    "Анна",
    "Татьяна",
    "Наталья",
    "Ирина",
    "Светлана",
    "Айгерим",
    "Нурлан",
    "Асель",
    "Ержан",
    "Динара",
    "Арман",
    "Жанна",
    "Бауыржан",
    "Гүлнар",
    "Әсел",
    "Айдос",
    "Данияр",
    "Мадина",
    "Ақбота",
    "Ерасыл",
    "Алихан",
    "Томирис",
]
PATRONYMIC = ("Петрович", "Ивановна", "Сергеевич", "Алексеевна", "Нурланович", "Ерланқызы", "")
# Latin transliteration used to build queries (the registry folds both scripts together).
LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "_",
            "y",
            "_",
            "e",
            "yu",
            "ya",
            "a",
            "g",
            "k",
            "n",
            "o",
            "u",
            "u",
            "h",
            "i",
        ],
        strict=True,
    )
)


def _latin(text: str) -> str:
    out = []
    for ch in text:
        low = ch.lower()
        mapped = LATIN.get(low, low).replace("_", "")
        out.append(mapped.capitalize() if ch != low else mapped)
    return "".join(out)


def surnames() -> list[str]:
    names = [f"{r}{s}" for r in ROOTS for s in SUFFIXES[:3]]
    names += [f"{r}{s}" for r in ROOTS[::3] for s in SUFFIXES[3:]]
    names += [f"{k}ов" for k in KAZAKH] + [f"{k}ұлы" for k in KAZAKH[::2]]
    return names


def _person(rng: random.Random, names: list[str], minor: bool) -> tuple[str, date]:
    surname = rng.choice(names)
    full = f"{surname} {rng.choice(GIVEN)} {rng.choice(PATRONYMIC)}".strip()
    age = rng.randint(1, 16) if minor else rng.randint(20, 60)
    born = date(2026, 1, 1) - timedelta(days=365 * age + rng.randint(0, 364))
    return full, born


def _rows(count: int, rng: random.Random) -> Iterator[tuple[Any, list[Any]]]:
    names = surnames()
    now = datetime.now(UTC)
    for _ in range(count):
        fid = str(uuid.uuid4())
        territory = "ru-irk" if rng.random() < 0.9 else "kz-ast"
        family = (fid, territory, "registered", "fc-irk-1", "bench", date(2027, 1, 1), now, now)
        members = []
        for pos in range(3):
            full, born = _person(rng, names, minor=pos > 0)
            members.append(
                (
                    str(uuid.uuid4()),
                    fid,
                    pos,
                    pos > 0,
                    full,
                    " ".join(full.casefold().split()),
                    born,
                    "",
                    "",
                    False,
                )
            )
        yield family, members


FAMILY_COLUMNS = (
    "id",
    "territory",
    "state",
    "responsible_agency_id",
    "responsible_body",
    "review_on",
    "created_at",
    "registered_at",
)
MEMBER_COLUMNS = (
    "id",
    "family_id",
    "position",
    "is_minor",
    "full_name",
    "search_name",
    "birth_date",
    "birth_place",
    "actual_address",
    "disability",
)


async def load_persons(dsn: str, persons: int, *, seed: int) -> float:
    """Add `persons` persons (in families of three) to the registry; seconds it took."""
    rng = random.Random(seed)
    began = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        families = persons // 3
        batch = 30_000
        for start in range(0, families, batch):
            chunk = list(_rows(min(batch, families - start), rng))
            await conn.copy_records_to_table(
                "families", records=[f for f, _ in chunk], columns=FAMILY_COLUMNS
            )
            await conn.copy_records_to_table(
                "family_members",
                records=[m for _, ms in chunk for m in ms],
                columns=MEMBER_COLUMNS,
            )
        await conn.execute("ANALYZE families; ANALYZE family_members")
    finally:
        await conn.close()
    return time.perf_counter() - began


def _swap(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randint(2, len(word) - 3)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


async def queries(dsn: str, count: int, *, seed: int) -> list[tuple[str, str, str]]:
    """(kind, name, birth date) taken from persons on record in the searching territory."""
    rng = random.Random(seed)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT m.full_name, m.birth_date FROM family_members m TABLESAMPLE SYSTEM (5) "
            "JOIN families f ON f.id = m.family_id WHERE f.territory = 'ru-irk' LIMIT $1",
            count,
        )
    finally:
        await conn.close()
    out = []
    for i, row in enumerate(rows):
        surname, given = row["full_name"].split()[:2]
        kind = ("exact", "typo", "latin", "full", "birth date")[i % 5]
        if kind == "exact":
            out.append((kind, surname.lower(), ""))
        elif kind == "typo":
            out.append((kind, _swap(surname.lower(), rng), ""))
        elif kind == "latin":
            out.append((kind, f"{_latin(surname)} {_latin(given)}", ""))
        elif kind == "full":
            out.append((kind, f"{surname} {given}", ""))
        else:
            out.append((kind, surname, row["birth_date"].isoformat()))
    return out


async def measure(port: int, token: str, asked: list[tuple[str, str, str]]) -> dict[str, float]:
    """p50/p95 (s) of the searches, one at a time; `found` is the share that found anything."""
    timings: list[float] = []
    found = 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        metadata = (("authorization", f"Bearer {token}"),)
        for _, name, born in asked[:5]:  # warm-up
            await stub.SearchFamilies(
                pb.SearchFamiliesRequest(name=name, birth_date=born, purpose="bench"),
                metadata=metadata,
            )
        for _, name, born in asked:
            began = time.perf_counter()
            reply = await stub.SearchFamilies(
                pb.SearchFamiliesRequest(name=name, birth_date=born, purpose="bench", page_size=20),
                metadata=metadata,
                timeout=30,
            )
            timings.append(time.perf_counter() - began)
            found += bool(reply.families)
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p95": timings[int(0.95 * (len(timings) - 1))],
        "found": found / len(asked),
    }
