"""Reading a repository entry's secrets: webhook secrets and trigger tokens, registry (push
and pull) and git credentials (no I/O).

Webhook secrets and trigger tokens are used by the web process only and may be written
literally. Credentials the worker uses become SecretRefs, so their values never reach the
database or the queue.
"""

from __future__ import annotations

import re

import yaml

from core.credentials import GitAuth, PullAuth, RegistryAuth, registry_name
from core.rules_yaml import Reader
from core.triggers import token_problem


def webhook_secrets(reader: Reader, f: dict[str, yaml.Node], path: str) -> tuple[str, ...]:
    """The webhook secrets from `secret` or `secrets`, each non-empty."""
    if "secret" in f and "secrets" in f:
        reader.error(f["secrets"], f"{path}.secrets", "set either secret or secrets, not both")
        return ()
    if "secret" in f:
        values = [(f["secret"], reader.string(f["secret"], f"{path}.secret"))]
    elif "secrets" in f:
        items = reader.sequence(f["secrets"], f"{path}.secrets") or []
        if not items and isinstance(f["secrets"], yaml.SequenceNode):
            reader.error(f["secrets"], f"{path}.secrets", "must list at least one secret")
        values = [(n, reader.string(n, f"{path}.secrets[{i}]")) for i, n in enumerate(items)]
    else:
        return ()
    for n, value in values:
        if value == "":
            reader.error(n, f"{path}.secret", "secret is empty")
    return tuple(v for _, v in values if v)


def registry_auth(reader: Reader, node: yaml.Node | None, path: str) -> RegistryAuth | None:
    """The registry credentials, when configured."""
    if node is None:
        return None
    f = reader.mapping(node, path, {"username", "password"}, required=("username", "password"))
    username = reader.string(f.get("username"), f"{path}.username")
    password = reader.secret(f.get("password"), f"{path}.password")
    if username is None or password is None:
        return None
    return RegistryAuth(username, password)


def git_auth(reader: Reader, node: yaml.Node | None, path: str) -> GitAuth | None:
    """Clone credentials: `token` (HTTPS) or `ssh_key_file` (a deploy key), not both."""
    if node is None:
        return None
    f = reader.mapping(node, path, {"username", "token", "ssh_key_file"})
    username = reader.string(f.get("username"), f"{path}.username") or "git"
    token = reader.secret(f.get("token"), f"{path}.token")
    key_file = reader.string(f.get("ssh_key_file"), f"{path}.ssh_key_file")
    if "token" in f and token is None:
        return None
    if (token is None) == (key_file is None):
        reader.error(node, path, "set exactly one of token or ssh_key_file")
        return None
    if key_file is not None and not key_file.startswith("/"):
        reader.error(f["ssh_key_file"], f"{path}.ssh_key_file", "must be an absolute path")
        return None
    return GitAuth(username=username, token=token, ssh_key_file=key_file)


_REGISTRY_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?",
                            re.ASCII)


def trigger_tokens(reader: Reader, node: yaml.Node | None, path: str) -> tuple[str, ...]:
    """The Docker Hub trigger tokens (one, or a list while rotating); web-side secrets, so
    literal or ${VAR} like the webhook secret."""
    if node is None:
        return ()
    if isinstance(node, yaml.SequenceNode):
        items = reader.sequence(node, path) or []
        if not items:
            reader.error(node, path, "must list at least one token")
        where = [(n, f"{path}[{i}]") for i, n in enumerate(items)]
    else:
        where = [(node, path)]
    tokens: list[str] = []
    for item, item_path in where:
        value = reader.string(item, item_path)
        if value is not None and (problem := token_problem(value)):
            reader.error(item, item_path, problem)
        elif value is not None:
            tokens.append(value)
    if len(set(tokens)) != len(tokens):
        reader.error(node, path, "lists the same token twice")
    return tuple(tokens)


def pull_auths(reader: Reader, node: yaml.Node | None, path: str) -> tuple[PullAuth, ...]:
    """Registry credentials for a repository's base images, one entry per registry host."""
    if node is None:
        return ()
    found: dict[str, PullAuth] = {}
    for i, item in enumerate(reader.sequence(node, path) or []):
        where = f"{path}[{i}]"
        f = reader.mapping(item, where, {"registry", "username", "password"},
                           required=("registry", "username", "password"))
        host = reader.string(f.get("registry"), f"{where}.registry")
        if host is not None and not _REGISTRY_HOST.fullmatch(host):
            reader.error(f["registry"], f"{where}.registry", f"{host!r} is not a registry "
                         "host such as registry.example.com, 127.0.0.1:5000 or docker.io")
            host = None
        username = reader.string(f.get("username"), f"{where}.username")
        if username == "":
            reader.error(f["username"], f"{where}.username", "must not be empty")
        password = reader.secret(f.get("password"), f"{where}.password")
        if host is None or not username or password is None:
            continue
        registry = registry_name(host)
        if registry in found:
            reader.error(item, f"{where}.registry", f"{registry} has credentials already")
            continue
        found[registry] = PullAuth(registry, username, password)
    return tuple(found.values())
