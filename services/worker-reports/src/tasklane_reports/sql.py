"""SQL helpers the reports share: date handling on both backends, projections, and batched streaming."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, Float, Select, String, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from tasklane_reports.document import Column, Kind, Projection, Section

BATCH = 5000
MIN_BATCH = 100


class day_of(FunctionElement[date]):
    """The UTC calendar day of a timestamp."""

    type = Date()
    inherit_cache = True


class month_of(FunctionElement[str]):
    """The UTC month of a timestamp as ``YYYY-MM``."""

    type = String()
    inherit_cache = True


class iso_utc(FunctionElement[str]):
    """A timestamp as ISO 8601 text in UTC, e.g. ``2026-01-02T03:04:05+00:00``."""

    type = String()
    inherit_cache = True


class excel_serial(FunctionElement[float]):
    """A timestamp or date as an Excel date serial (days since 1899-12-30, UTC)."""

    type = Float()
    inherit_cache = True


class money_text(FunctionElement[str]):
    """A money amount as text with two decimals."""

    type = String()
    inherit_cache = True


def _arg(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(day_of, "postgresql")
def _day_postgresql(element: day_of, compiler: Any, **kw: Any) -> str:
    return f"CAST(({_arg(element, compiler, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


@compiles(day_of, "sqlite")
def _day_sqlite(element: day_of, compiler: Any, **kw: Any) -> str:
    return f"date({_arg(element, compiler, **kw)})"


@compiles(month_of, "postgresql")
def _month_postgresql(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"to_char(({_arg(element, compiler, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {_arg(element, compiler, **kw)})"


@compiles(iso_utc, "postgresql")
def _iso_postgresql(element: iso_utc, compiler: Any, **kw: Any) -> str:
    iso = """'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'"""
    return f"to_char(({_arg(element, compiler, **kw)}) AT TIME ZONE 'UTC', {iso})"


@compiles(iso_utc, "sqlite")
def _iso_sqlite(element: iso_utc, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m-%dT%H:%M:%S+00:00', {_arg(element, compiler, **kw)})"


@compiles(excel_serial, "postgresql")
def _serial_postgresql(element: excel_serial, compiler: Any, **kw: Any) -> str:
    return f"(EXTRACT(EPOCH FROM ({_arg(element, compiler, **kw)}))::float8 / 86400.0 + 25569.0)"


@compiles(excel_serial, "sqlite")
def _serial_sqlite(element: excel_serial, compiler: Any, **kw: Any) -> str:
    return f"(julianday({_arg(element, compiler, **kw)}) - 2415018.5)"


@compiles(money_text, "postgresql")
def _money_postgresql(element: money_text, compiler: Any, **kw: Any) -> str:
    return f"CAST(CAST(({_arg(element, compiler, **kw)}) AS NUMERIC(14, 2)) AS TEXT)"


@compiles(money_text, "sqlite")
def _money_sqlite(element: money_text, compiler: Any, **kw: Any) -> str:
    return f"printf('%.2f', {_arg(element, compiler, **kw)})"


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start 00:00, end + 1 day 00:00)`` in UTC: whole days, end inclusive."""
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


def _projected(expression: ColumnElement[Any], kind: Kind, projection: Projection) -> ColumnElement[Any]:
    if kind == Kind.TEXT:
        # Identifiers and the like become text too: writers that take ready values take only str.
        return expression if isinstance(expression.type, String) else cast(expression, String)
    if projection == Projection.TEXT:
        if kind == Kind.DATETIME:
            return iso_utc(expression)
        if kind == Kind.MONEY:
            return money_text(expression)
        if kind in (Kind.INT, Kind.PERCENT, Kind.DATE):
            return cast(expression, String)
    elif projection == Projection.EXCEL:
        if kind in (Kind.DATETIME, Kind.DATE):
            return excel_serial(expression)
        if kind in (Kind.MONEY, Kind.PERCENT, Kind.INT):
            return cast(expression, Float)
    return expression


def project(
    statement: Select[*tuple[Any, ...]], columns: Sequence[Column], projection: Projection
) -> Select[*tuple[Any, ...]]:
    """The same query, with each column converted in SQL to what the writer wants."""
    if projection == Projection.TYPED:
        return statement
    converted = [
        _projected(expression, column.kind, projection)
        for expression, column in zip(statement.selected_columns, columns, strict=True)
    ]
    return statement.with_only_columns(*converted, maintain_column_froms=True)


def stream(
    session: Session, statement: Select[*tuple[Any, ...]], batch: int = BATCH
) -> Iterator[Sequence[Any]]:
    """Rows in batches, never the whole result in memory.

    On PostgreSQL through psycopg's chunked streaming on the session's own connection (same transaction):
    a server-side cursor would bound memory just as well, but PostgreSQL never runs a cursor's query in
    parallel, which made a million-row report more than twice as slow. Elsewhere, SQLAlchemy's
    ``yield_per``. The bound values are UUIDs, aware datetimes and strings, which psycopg adapts itself.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        yield from connection.execute(statement, execution_options={"yield_per": batch}).partitions()
        return
    compiled = statement.compile(dialect=connection.dialect)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        rows: list[Any] = []
        for row in cursor.stream(str(compiled), compiled.params, size=batch):
            rows.append(row)
            if len(rows) >= batch:
                yield rows
                rows = []
        if rows:
            yield rows


def count(session: Session, statement: Select[*tuple[Any, ...]]) -> int:
    return int(session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0)


def batch_size(expected_rows: int) -> int:
    """Small enough that progress moves in steps of about 2%, large enough to keep round trips cheap."""
    return max(MIN_BATCH, min(BATCH, expected_rows // 50))


def streamed_section(
    session: Session, title: str, columns: Sequence[Column], statement: Select[*tuple[Any, ...]]
) -> Section:
    """The big table of a report: counted now (for progress), streamed later in the writer's projection."""
    return Section(title, columns, expected_rows=count(session, statement), statement=statement)


def stream_section(session: Session, section: Section, projection: Projection) -> Section:
    """Fill a streamed section's batches, converted by the database into ``projection``."""
    if section.statement is None:
        return section
    statement = project(section.statement, section.columns, projection)
    section.batches = stream(session, statement, batch_size(section.expected_rows))
    section.projection = projection
    return section
