"""How a live database's tables differ from a MetaData, in words (database reads only).

Alembic's autogenerate comparison does the work; this module keeps it to the MetaData's tables
and turns each difference into one line that says what the database has and what was expected.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData


def schema_differences(connection: Connection, expected: MetaData) -> list[str]:
    """Every difference between the database's version of `expected`'s tables and `expected`."""
    wanted = set(expected.tables)

    def include_name(name: str | None, type_: str, _parents: Any) -> bool:
        return type_ != "table" or name in wanted

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": include_name}
    )
    lines: list[str] = []
    for diff in compare_metadata(context, expected):
        for item in diff if isinstance(diff, list) else [diff]:
            lines.append(describe(item))
    return lines


def describe(diff: tuple[Any, ...]) -> str:
    """One line for one Alembic difference (which says how to change the database to match)."""
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        return f"table {diff[1].name} {_side(kind)}"
    if kind in ("add_column", "remove_column"):
        column = diff[3]
        return f"column {diff[2]}.{column.name} ({column.type}) {_side(kind)}"
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        unique = "unique " if index.unique else ""
        return f"{unique}index {index.name} on {index.table.name}({_columns(index)}) {_side(kind)}"
    if kind in ("add_constraint", "remove_constraint"):
        constraint = diff[1]
        return (f"constraint {constraint.name} on {constraint.table.name}"
                f"({_columns(constraint)}) {_side(kind)}")
    if kind in ("add_fk", "remove_fk"):
        fk = diff[1]
        target = ", ".join(element.target_fullname for element in fk.elements)
        return f"foreign key {fk.table.name}({_columns(fk)}) -> {target} {_side(kind)}"
    if kind == "modify_type":
        return f"column {diff[2]}.{diff[3]} has type {diff[5]}, expected {diff[6]}"
    if kind == "modify_nullable":
        return (f"column {diff[2]}.{diff[3]} is {_null(diff[5])}, expected {_null(diff[6])}")
    if kind == "modify_default":
        return f"column {diff[2]}.{diff[3]} has default {diff[5]!r}, expected {diff[6]!r}"
    return repr(diff)


def _side(kind: str) -> str:
    return "is missing" if kind.startswith("add_") else "is there but not expected"


def _columns(item: Any) -> str:
    return ", ".join(column.name for column in item.columns)


def _null(nullable: bool) -> str:
    return "NULL" if nullable else "NOT NULL"
