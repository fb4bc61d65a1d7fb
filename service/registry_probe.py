"""Can each registry the rules push to (or pull bases from) be reached, and does its login
work? For `autobuild doctor` (HTTP I/O; credentials never appear in what it says).

The Docker Registry HTTP API's own handshake: `GET /v2/` answers 200 (no login needed) or 401
with `WWW-Authenticate` saying how to log in: `Basic` (htpasswd registries) is tried on /v2/
itself, `Bearer realm=…,service=…` (Docker Hub, GitLab, Harbor …) by asking the realm for a
token with the credentials.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from core.credentials import (
    DOCKER_HUB_REGISTRY,
    SecretRef,
    image_registry,
    registry_name,
    resolve_secret,
)
from core.errors import SecretUnavailableError
from core.rules import RuleSet

TIMEOUT = 5.0
HUB_API = "registry-1.docker.io"
_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Login:
    """A username and where its password is read from (the rules' reference)."""

    username: str
    password: SecretRef
    where: str


@dataclass(frozen=True)
class Probe:
    """What a registry said: `ok`, and a sentence; `fix` when not ok."""

    ok: bool
    message: str
    fix: str = ""
    warning: bool = False


def registries(ruleset: RuleSet) -> dict[str, list[Login]]:
    """Every registry host the rules push to or pull from, with the logins they give for it."""
    found: dict[str, list[Login]] = {}
    for repo in ruleset.repositories:
        host = image_registry(repo.image)
        logins = found.setdefault(host, [])
        if repo.registry_auth:
            logins.append(Login(repo.registry_auth.username, repo.registry_auth.password,
                                f"{repo.name} registry_auth"))
        for pull in repo.pull_auth:
            found.setdefault(registry_name(pull.registry), []).append(
                Login(pull.username, pull.password, f"{repo.name} pull_auth"))
    return found


def _hostname(host: str) -> str:
    """`host` without its port (`[::1]:5000` → `::1`)."""
    if host.startswith("[") and "]" in host:
        return host[1:host.index("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _base(host: str) -> str:
    """The registry's API address: plain HTTP only on loopback, as the engine allows."""
    name = _hostname(host)
    try:
        loopback = name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = False
    api = HUB_API if host == DOCKER_HUB_REGISTRY else host
    return f"{'http' if loopback else 'https'}://{api}"


def _challenge(response: requests.Response) -> tuple[str, dict[str, str]]:
    scheme, _, rest = response.headers.get("WWW-Authenticate", "").partition(" ")
    return scheme.lower(), dict(_PARAM.findall(rest))


def _log_in(base: str, answer: requests.Response, user: str, password: str) -> bool:
    """Whether the registry accepts these credentials."""
    scheme, params = _challenge(answer)
    try:
        if scheme == "bearer" and params.get("realm", "").startswith(("https://", "http://")):
            query = {"service": params["service"]} if "service" in params else {}
            got = requests.get(params["realm"], params=query, auth=(user, password),
                               timeout=TIMEOUT)
            body = got.json() if got.status_code == 200 else {}
            return bool(isinstance(body, dict) and (body.get("token") or body.get("access_token")))
        got = requests.get(f"{base}/v2/", auth=(user, password), timeout=TIMEOUT)
    except (requests.RequestException, ValueError):
        return False
    return got.status_code == 200


def probe(host: str, logins: Iterable[Login], environ: Mapping[str, str]) -> list[Probe]:
    """Reach the registry, then try each login whose password this environment can read."""
    base = _base(host)
    try:
        answer = requests.get(f"{base}/v2/", timeout=TIMEOUT)
    except requests.RequestException as exc:
        return [Probe(False, f"unreachable at {base}: {type(exc).__name__}",
                      f"check the name, DNS and firewall from this host (curl {base}/v2/)")]
    if answer.status_code not in (200, 401):
        return [Probe(False, f"{base}/v2/ answered {answer.status_code}, not a registry's 200 "
                      "or 401", "check that the image's first name component is the registry")]
    found = [Probe(True, f"reachable at {base}" + (" (a login is needed)"
                                                   if answer.status_code == 401 else ""))]
    for login in logins:
        try:
            password = resolve_secret(login.password, environ=environ, what=login.where,
                                      read_file=lambda path: Path(path).read_text())
        except SecretUnavailableError as exc:
            found.append(Probe(True, f"login {login.username!r} ({login.where}) not tried: "
                               f"{exc}", "run autobuild doctor where the workers' secrets are "
                               "set to check it", warning=True))
            continue
        if answer.status_code == 200:
            found.append(Probe(True, f"login {login.username!r} ({login.where}): the registry "
                               "needs none"))
        elif _log_in(base, answer, login.username, password):
            found.append(Probe(True, f"login {login.username!r} ({login.where}) works"))
        else:
            found.append(Probe(False, f"login {login.username!r} ({login.where}) is refused",
                               f"check the user name and {login.password.describe()}"))
    return found
