"""The architecture's import rules, checked by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IO_LIBRARIES = {"flask", "werkzeug", "redis", "rq", "docker", "git", "sqlalchemy", "sqlite3",
                "requests", "records", "service", "workers", "vcs", "notify", "subprocess",
                "socket"}


def imported_roots(path: Path) -> set[str]:
    """The top-level package of every import in a module."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_is_pure(path: Path) -> None:
    assert imported_roots(path) & IO_LIBRARIES == set()


@pytest.mark.parametrize("path", modules("service"), ids=lambda p: str(p.relative_to(ROOT)))
def test_service_never_imports_workers_or_docker(path: Path) -> None:
    assert imported_roots(path) & {"workers", "docker"} == set()


@pytest.mark.parametrize("path", modules("workers"), ids=lambda p: str(p.relative_to(ROOT)))
def test_workers_never_import_service_or_flask(path: Path) -> None:
    assert imported_roots(path) & {"service", "flask", "werkzeug"} == set()


@pytest.mark.parametrize("path", modules("notify"), ids=lambda p: str(p.relative_to(ROOT)))
def test_notify_is_shared_by_web_and_workers_and_imports_neither(path: Path) -> None:
    assert imported_roots(path) & {"service", "workers", "flask", "werkzeug", "docker",
                                   "git"} == set()


@pytest.mark.parametrize("path", modules("records"), ids=lambda p: str(p.relative_to(ROOT)))
def test_records_import_only_core(path: Path) -> None:
    assert imported_roots(path) & {"service", "workers", "vcs", "notify", "flask", "docker",
                                   "git"} == set()


@pytest.mark.parametrize("path", modules("vcs"), ids=lambda p: str(p.relative_to(ROOT)))
def test_vcs_is_shared_git_access_only(path: Path) -> None:
    assert imported_roots(path) & {"service", "workers", "records", "flask", "docker",
                                   "redis", "rq", "sqlalchemy"} == set()


def test_every_package_has_its_rule() -> None:
    """A new top-level package must get its import rule here."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert packages == {"core", "records", "service", "workers", "vcs", "notify"}
