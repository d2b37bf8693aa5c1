"""Column types: exact decimals as integer micro-units, UTC datetimes, JSON lists."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SCALE = Decimal(1_000_000)
QUANTUM = Decimal("0.000001")


class Micros(TypeDecorator[Decimal]):
    """A Decimal stored as a BIGINT count of millionths: exact sums in SQL on SQLite and PostgreSQL alike."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * SCALE).to_integral_value(rounding=ROUND_HALF_EVEN))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / SCALE).quantize(QUANTUM)


def to_micros(value: Decimal) -> int:
    return int((value * SCALE).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_micros(value: int | None) -> Decimal:
    return (Decimal(int(value or 0)) / SCALE).quantize(QUANTUM)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; naive values are refused."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONList(TypeDecorator[list[str]]):
    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> list[str] | None:
        return None if value is None else list(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str]:
        return list(value or [])


def utcnow() -> datetime:
    return datetime.now(UTC)
