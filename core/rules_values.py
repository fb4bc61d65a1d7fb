"""Reading named values with secret ones among them: build_args and build env (no I/O).

`build_args` + `secret_build_args` and `env` + `secret_env` have one shape: a mapping of names
to values, and a list naming the ones whose values are secrets. Plain values are expanded from
the environment at load (`${VAR}`); secret ones must be references (`${VAR}` or `{file: …}`)
that only the worker resolves, so their values are never stored.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

from core.credentials import ENV_NAME, SecretRef
from core.rules_yaml import Reader

HOOK_VARIABLES = frozenset({
    "SOURCE_BRANCH", "SOURCE_COMMIT", "COMMIT_MSG", "DOCKER_REPO", "DOCKERFILE_PATH",
    "DOCKER_TAG", "CACHE_TAG", "IMAGE_NAME", "DOCKER_HOST", "DOCKER_CONFIG",
})
"""What Autobuild itself sets for hooks (Docker Hub's variables and the worker's engine):
`env` may not change them."""

NamedValues = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, SecretRef], ...]]
NameCheck = Callable[[str], str | None]


def named_values(reader: Reader, f: dict[str, yaml.Node], path: str, *, values: str,
                 secrets: str, name_problem: NameCheck | None = None) -> NamedValues:
    """(plain, secret) values of the mapping `values`, the names listed in `secrets` being
    secret references; every problem is recorded with its field path."""
    secret_names = reader.string_list(f.get(secrets), f"{path}.{secrets}")
    node = f.get(values)
    given = reader.mapping(node, f"{path}.{values}", None) if node is not None else {}
    for name in sorted(set(secret_names) - set(given)):
        reader.error(f[secrets], f"{path}.{secrets}", f"{name!r} is not one of {values}")
    plain: list[tuple[str, str]] = []
    secret: list[tuple[str, SecretRef]] = []
    for name, value_node in given.items():
        where = f"{path}.{values}.{name}"
        problem = "names must not be empty" if not name.strip() else (
            name_problem(name) if name_problem else None)
        if problem is not None:
            reader.error(value_node, f"{path}.{values}", problem)
        elif name in secret_names:
            ref = reader.secret(value_node, where)
            if ref is not None:
                secret.append((name, ref))
        elif (value := reader.string(value_node, where)) is not None:
            plain.append((name, value))
    return tuple(plain), tuple(secret)


def env_name_problem(name: str) -> str | None:
    """Why `name` cannot be a build environment variable, or None."""
    if not ENV_NAME.fullmatch(name):
        return f"{name!r} is not an environment variable name (letters, digits and _)"
    if name in HOOK_VARIABLES:
        return f"{name} is set by Autobuild for hooks; choose another name"
    return None


def build_env(reader: Reader, f: dict[str, yaml.Node], path: str) -> NamedValues:
    """The `env` and `secret_env` of a repository or rule: Docker Hub's build environment
    variables, handed to hooks."""
    return named_values(reader, f, path, values="env", secrets="secret_env",
                        name_problem=env_name_problem)
