"""Reading a repository entry's secrets: webhook secrets, registry and git credentials (no I/O).

Webhook secrets are used by the web process only and may be written literally. Credentials
the worker uses become SecretRefs, so their values never reach the database or the queue.
"""

from __future__ import annotations

import yaml

from core.credentials import GitAuth, RegistryAuth
from core.rules_yaml import Reader


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
