"""Reading a rule's build options: builder, platforms, arguments, secrets, limits and the
queue its builds wait on (no I/O).

Build secrets and secret build arguments become SecretRefs (`${NAME}` or `{file: /path}`): the
worker reads their values when it builds, so they never reach the database or the queue. What
only BuildKit can do (mount secrets, build other platforms) is a load error on a rule that
builds with the classic builder, whether it says `builder: classic` or AUTOBUILD_BUILDER does.
"""

from __future__ import annotations

import yaml

from core.build_limits import BuildLimits, parse_cpus, parse_memory
from core.build_options import (
    CLASSIC,
    builder_problem,
    platform_problem,
    queue_problem,
    secret_id_problem,
)
from core.credentials import SecretRef
from core.rules_values import NamedValues, named_values
from core.rules_yaml import Reader

Fields = dict[str, yaml.Node]


def build_args(reader: Reader, f: Fields, path: str) -> NamedValues:
    """(plain build arguments, secret ones as references) of a rule."""
    return named_values(reader, f, path, values="build_args", secrets="secret_build_args")


def builder(reader: Reader, f: Fields, path: str, default: str) -> str:
    """The rule's builder: its `builder`, else the server's default."""
    name = reader.string(f.get("builder"), f"{path}.builder", default)
    if name is not None and (problem := builder_problem(name)):
        reader.error(f["builder"], f"{path}.builder", problem)
        return default
    return name or default


def _why_classic(f: Fields) -> str:
    return "builder: classic" if "builder" in f else "AUTOBUILD_BUILDER=classic, the default here"


def platforms(reader: Reader, f: Fields, path: str, builder_name: str) -> tuple[str, ...]:
    """The platforms to build, () for the engine's own; each os/arch[/variant], once."""
    node = f.get("platforms")
    if node is None:
        return ()
    nodes = reader.sequence(node, f"{path}.platforms")
    if nodes == []:
        reader.error(node, f"{path}.platforms", "lists no platform (omit it to build for the "
                     "worker's own platform)")
    items: list[str] = []
    for i, item in enumerate(nodes or []):
        platform = reader.string(item, f"{path}.platforms[{i}]")
        if platform is None:
            continue
        if problem := platform_problem(platform):
            reader.error(item, f"{path}.platforms[{i}]", problem)
        elif platform in items:
            reader.error(item, f"{path}.platforms[{i}]", f"{platform} is listed more than once")
        else:
            items.append(platform)
    if items and builder_name == CLASSIC:
        reader.error(node, f"{path}.platforms", f"multi-platform images need BuildKit, and this "
                     f"rule builds with the classic builder ({_why_classic(f)}): set "
                     "builder: buildkit")
    return tuple(items)


def secrets(reader: Reader, f: Fields, path: str, builder_name: str
            ) -> tuple[tuple[str, SecretRef], ...]:
    """Build secrets by id, for RUN --mount=type=secret,id=<id>: references, never values."""
    node = f.get("secrets")
    if node is None:
        return ()
    found: list[tuple[str, SecretRef]] = []
    for secret_id, value_node in reader.mapping(node, f"{path}.secrets", None).items():
        if problem := secret_id_problem(secret_id):
            reader.error(value_node, f"{path}.secrets", problem)
            continue
        ref = reader.secret(value_node, f"{path}.secrets.{secret_id}")
        if ref is not None:
            found.append((secret_id, ref))
    if isinstance(node, yaml.MappingNode) and builder_name == CLASSIC:
        reader.error(node, f"{path}.secrets", f"build secrets need BuildKit: the classic builder "
                     f"cannot mount them (RUN --mount=type=secret), and this rule builds with it "
                     f"({_why_classic(f)}): set builder: buildkit")
    return tuple(found)


def limits(reader: Reader, f: Fields, path: str) -> BuildLimits:
    """The rule's own `memory` and `cpus` limits (None each: the worker's default)."""
    found: dict[str, int | None] = {"memory": None, "cpus": None}
    for key, parse in (("memory", parse_memory), ("cpus", parse_cpus)):
        text = reader.string(f.get(key), f"{path}.{key}")
        if text is None:
            continue
        try:
            found[key] = parse(text)
        except ValueError as exc:
            reader.error(f[key], f"{path}.{key}", str(exc))
    return BuildLimits(memory=found["memory"], millicpus=found["cpus"])
def queue(reader: Reader, f: Fields, path: str) -> str | None:
    """The `queue` a rule's (or a repository's) builds go to; None when it names none."""
    name = reader.string(f.get("queue"), f"{path}.queue", None)
    if name is not None and (problem := queue_problem(name)):
        reader.error(f["queue"], f"{path}.queue", problem)
        return None
    return name
