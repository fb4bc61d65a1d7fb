"""Reading a repository's `status:` and `notify:` keys, with file:line errors (no I/O).

    status: {token: ${VAR}, username: NAME, api_url: URL, bitbucket: cloud|server,
             insecure: false}
    notify: [{url: URL or ${VAR}, secret: ${VAR}, events: [...], format: dockerhub|slack,
              insecure: false}, ...]

Provider `bitbucket` serves Bitbucket Cloud and Bitbucket Server / Data Center. `bitbucket:
cloud` or `bitbucket: server` says which; without it, no `api_url` or one on api.bitbucket.org
is Cloud and any other `api_url` is a Server. Gitea has no public default: it needs `api_url`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import yaml

from core.credentials import SecretRef, env_reference
from core.notify.targets import (
    BITBUCKET_CLOUD_HOST,
    DEFAULT_API_URLS,
    DEFAULT_EVENTS,
    DEFAULT_FORMAT,
    STATUS_FORGES,
    WEBHOOK_EVENTS,
    WEBHOOK_FORMATS,
    StatusTarget,
    WebhookTarget,
)
from core.notify.urls import literal_url_problem, without_trailing_slash
from core.rules_yaml import Reader

STATUS_KEYS = frozenset({"token", "username", "api_url", "bitbucket", "insecure"})
BITBUCKET_EDITIONS = ("cloud", "server")
NOTIFY_KEYS = frozenset({"url", "secret", "events", "format", "insecure"})
MAX_NOTIFY_TARGETS = 10
"""At most this many `notify:` entries per repository (each build ending sends to each)."""


def status_forge(provider: str, api_url: str | None, edition: str | None = None) -> str:
    """The commit-status flavour of a provider: bitbucket is Cloud or Server by `edition`,
    else by `api_url`."""
    if provider != "bitbucket":
        return provider
    if edition is not None:
        return f"bitbucket-{edition}"
    if api_url is None or urlsplit(api_url).hostname == BITBUCKET_CLOUD_HOST:
        return "bitbucket-cloud"
    return "bitbucket-server"


def status_target(reader: Reader, node: yaml.Node | None, path: str,
                  provider: str | None) -> StatusTarget | None:
    """The repository's commit-status target, when `status:` is set."""
    if node is None:
        return None
    f = reader.mapping(node, path, STATUS_KEYS, required=("token",))
    token = reader.secret(f.get("token"), f"{path}.token")
    username = reader.string(f.get("username"), f"{path}.username")
    insecure = reader.boolean(f.get("insecure"), f"{path}.insecure", False)
    api_url = reader.string(f.get("api_url"), f"{path}.api_url")
    if api_url is not None and (problem := literal_url_problem(api_url, insecure=insecure)):
        reader.error(f["api_url"], f"{path}.api_url", f"{api_url!r} {problem}")
        return None
    edition = reader.string(f.get("bitbucket"), f"{path}.bitbucket")
    if edition is not None and (provider != "bitbucket" or edition not in BITBUCKET_EDITIONS):
        reader.error(f["bitbucket"], f"{path}.bitbucket", "is cloud or server, and only for "
                     f"provider bitbucket (got {edition!r} for {provider})")
        return None
    if provider is None or token is None:
        return None
    forge = status_forge(provider, api_url, edition)
    if forge not in STATUS_FORGES:  # an unknown provider, reported at `provider`
        return None
    if api_url is None and forge not in DEFAULT_API_URLS:
        reader.error(node, f"{path}.api_url", f"is required for {forge} (it has no public "
                     "API address), e.g. https://gitea.example.com/api/v1")
        return None
    if username is not None and not forge.startswith("bitbucket"):
        reader.error(f["username"], f"{path}.username", "is only for Bitbucket app passwords "
                     f"(username + token); {forge} takes the token alone")
        return None
    base = without_trailing_slash(api_url or DEFAULT_API_URLS[forge])
    return StatusTarget(forge=forge, api_url=base, token=token, username=username or None)


def webhook_targets(reader: Reader, node: yaml.Node | None, path: str
                    ) -> tuple[WebhookTarget, ...]:
    """The repository's `notify:` entries (at most MAX_NOTIFY_TARGETS)."""
    if node is None:
        return ()
    items = reader.sequence(node, path) or []
    if len(items) > MAX_NOTIFY_TARGETS:
        reader.error(node, path, f"lists {len(items)} targets; at most {MAX_NOTIFY_TARGETS} "
                     "are allowed per repository")
        return ()
    targets = [_webhook(reader, item, f"{path}[{i}]") for i, item in enumerate(items)]
    return tuple(t for t in targets if t is not None)


def _webhook(reader: Reader, node: yaml.Node, path: str) -> WebhookTarget | None:
    """One `notify:` entry, or None after an error."""
    before = reader.count()
    f = reader.mapping(node, path, NOTIFY_KEYS, required=("url",))
    insecure = reader.boolean(f.get("insecure"), f"{path}.insecure", False)
    fmt = reader.string(f.get("format"), f"{path}.format", DEFAULT_FORMAT)
    if fmt is not None and fmt not in WEBHOOK_FORMATS:
        reader.error(f["format"], f"{path}.format",
                     f"unknown format {fmt!r} (known: {', '.join(WEBHOOK_FORMATS)})")
    events = reader.string_list(f.get("events"), f"{path}.events") if "events" in f else list(
        DEFAULT_EVENTS)
    for event in events:
        if event not in WEBHOOK_EVENTS:
            reader.error(f["events"], f"{path}.events",
                         f"unknown event {event!r} (known: {', '.join(WEBHOOK_EVENTS)})")
    if "events" in f and not events:
        reader.error(f["events"], f"{path}.events", "lists no event; omit it for [success]")
    secret = reader.secret(f.get("secret"), f"{path}.secret")
    url, url_ref = _url(reader, f.get("url"), f"{path}.url", insecure=insecure, chat=fmt == "slack")
    if reader.count() > before or (url is None and url_ref is None):
        return None
    assert fmt is not None
    return WebhookTarget(url=url, url_ref=url_ref, secret=secret,
                         events=tuple(dict.fromkeys(events)), format=fmt, insecure=insecure)


def _url(reader: Reader, node: yaml.Node | None, path: str, *, insecure: bool, chat: bool
         ) -> tuple[str | None, SecretRef | None]:
    """(literal URL, None) or (None, its SecretRef); chat webhook URLs are credentials."""
    if node is None:
        return None, None
    raw = node.value if isinstance(node, yaml.ScalarNode) else None
    if isinstance(node, yaml.MappingNode) or (isinstance(raw, str) and env_reference(raw)):
        return None, reader.secret(node, path)
    if isinstance(raw, str) and "${" in raw.replace("$${", ""):
        reader.error(node, path, "write the whole URL as ${VARIABLE}, not a part of it: an "
                     "expanded URL would be stored with every build")
        return None, None
    url = reader.string(node, path)
    if url is None:
        return None, None
    if chat:
        reader.error(node, path, "a chat webhook URL is itself a credential (Slack, Mattermost "
                     "and Rocket.Chat put the key in the path): write it as ${VARIABLE}")
        return None, None
    if problem := literal_url_problem(url, insecure=insecure):
        reader.error(node, path, f"{url!r} {problem}")
        return None, None
    return url, None
