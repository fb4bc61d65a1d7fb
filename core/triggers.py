"""Docker Hub trigger URLs: tokens, the repository a token names, bodies, what they build (no I/O).

A repository with `trigger_token` answers both URL shapes Docker Hub used:
`/u/<owner>/<name>/trigger/<token>/` and `/api/build/v1/source/<source-id>/trigger/<token>/call/`.
The token alone identifies the repository: it is compared with every configured token in
constant time (their SHA-256 digests, so lengths leak nothing either), and the path's
repository part must then name that repository, or the call is unknown. A token only triggers
builds; it is never an API token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

from core.errors import TriggerBodyError
from core.events import RefKind, full_ref
from core.rules import RepositoryConfig, RuleSet
from core.tags import split_templates

MIN_TOKEN_LENGTH = 16
MAX_TOKEN_LENGTH = 200
_TOKEN = re.compile(r"[A-Za-z0-9._~-]+", re.ASCII)
MAX_BODY_BYTES = 4096
"""The largest trigger body read (Docker Hub's bodies are a few dozen bytes)."""
LOGGED_BODY_CHARS = 500
MAX_NAME_LENGTH = 255
SOURCE_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "autobuild:docker-hub-trigger-source")
FIELDS = ("build", "docker_tag", "source_type", "source_name")
SHAPES = 'send {"build": true}, {"docker_tag": "<tag>"} or {"source_type": "Branch", ' \
         '"source_name": "<name>"} (as JSON, or the form body build=true)'


class TriggerOutcome(StrEnum):
    """What became of a trigger call; the value is what the trigger log and the API hold."""

    QUEUED = "queued"
    NOT_BUILT = "not_built"  # 422: nothing matches, or every ref failed to resolve
    UNKNOWN = "unknown"  # 404: no such token for that repository
    INVALID = "invalid"  # 400/413: a body we cannot read
    FAILED = "failed"  # 502: git ls-remote failed


@dataclass(frozen=True)
class TriggerRequest:
    """What a trigger body asks for: every literal rule, one Docker tag, or one branch or tag."""

    docker_tag: str | None = None
    source_type: RefKind | None = None
    source_name: str | None = None

    def describe(self) -> str:
        """The request in words, for answers and the log."""
        if self.docker_tag is not None:
            return f"the rules with Docker tag {self.docker_tag!r}"
        if self.source_type is not None:
            return f"{self.source_type.value} {self.source_name}"
        return "every rule with a literal source"


@dataclass(frozen=True)
class Selection:
    """One Build now to run: a ref, for one rule (by index) or for every rule matching it."""

    ref: str
    rule_index: int | None = None


def token_problem(token: str) -> str | None:
    """Why `token` cannot be a trigger token (never quoting it), or None."""
    if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH:
        return (f"a trigger token must have {MIN_TOKEN_LENGTH} to {MAX_TOKEN_LENGTH} "
                "characters (a long random one: python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(24))')")
    if not _TOKEN.fullmatch(token):
        return "a trigger token may hold only letters, digits and . _ ~ - (it is part of a URL)"
    return None


def source_id(repo: RepositoryConfig) -> str:
    """The repository's stable <source-id> for the /api/build/v1/source/… trigger URL."""
    return str(uuid.uuid5(SOURCE_ID_NAMESPACE, f"{repo.provider}/{repo.name}"))


def image_path(image: str) -> str:
    """The image repository without its registry host (`acme/webapp`), as Docker Hub names it."""
    first, slash, rest = image.partition("/")
    return rest if slash and ("." in first or ":" in first or first == "localhost") else image


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _same(given: str, expected: str) -> bool:
    """Constant-time equality of two strings of any lengths."""
    return hmac.compare_digest(_digest(given), _digest(expected))


def find_by_token(ruleset: RuleSet, token: str) -> RepositoryConfig | None:
    """The repository one of whose trigger tokens is `token`; every token is compared, with no
    early exit, so the time taken says nothing about which (or whether one) matched."""
    found: RepositoryConfig | None = None
    for repo in ruleset.repositories:
        for candidate in repo.trigger_tokens:
            if _same(token, candidate) and found is None:
                found = repo
    return found


def path_names(repo: RepositoryConfig | None, *, name: str | None = None,
               source: str | None = None) -> bool:
    """Whether the URL's repository part names `repo`: `name` is its forge name or its image
    path (Docker Hub's <namespace>/<name>), `source` its source id. Compared in constant time
    also when `repo` is None, so an unknown token costs what a wrong path does."""
    if source is not None:
        return _same(source, source_id(repo) if repo else "") and repo is not None
    given = name or ""
    forge = _same(given, repo.name if repo else "")
    image = _same(given, image_path(repo.image) if repo else "")
    return repo is not None and (forge or image)


def log_body(body: bytes, tokens: Iterable[str]) -> str:
    """The body as the trigger log keeps it: text, with any token masked, cut to a length."""
    text = body.decode("utf-8", "replace")
    for token in tokens:
        text = text.replace(token, "***")
    text = "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)
    return text if len(text) <= LOGGED_BODY_CHARS else text[:LOGGED_BODY_CHARS] + "…"


def parse_body(body: bytes, content_type: str) -> TriggerRequest:
    """What a trigger body asks for; an empty body builds every literal rule, as a bare
    `curl -X POST` to Docker Hub did. Raises TriggerBodyError saying what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise TriggerBodyError(f"the body is larger than {MAX_BODY_BYTES} bytes", status=413)
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise TriggerBodyError(f"the body is not UTF-8 text; {SHAPES}") from None
    if not text:
        return TriggerRequest()
    if content_type.partition(";")[0].strip().lower() == "application/json" or text[0] in "{[":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise TriggerBodyError(f"the body is not valid JSON ({exc}); {SHAPES}") from None
        if not isinstance(data, dict):
            raise TriggerBodyError(f"the JSON body must be an object; {SHAPES}")
        return _request(data)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise TriggerBodyError(f"the body is neither JSON nor a form; {SHAPES}") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise TriggerBodyError("the form body names a field twice")
    return _request(fields)


def _request(fields: Mapping[str, Any]) -> TriggerRequest:
    """The request of decoded body fields (JSON values, or form strings)."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise TriggerBodyError(f"unknown field {unknown[0]!r} (known: {', '.join(FIELDS)})")
    given = [name for name in ("build", "docker_tag", "source_type") if name in fields]
    if "source_name" in fields and "source_type" not in fields:
        raise TriggerBodyError("source_name needs source_type (Branch or Tag)")
    if len(given) != 1:
        raise TriggerBodyError(f"give exactly one of build, docker_tag, or source_type with "
                               f"source_name; {SHAPES}")
    if "build" in fields:
        if fields["build"] is not True and str(fields["build"]).lower() != "true":
            raise TriggerBodyError("build must be true")
        return TriggerRequest()
    if "docker_tag" in fields:
        return TriggerRequest(docker_tag=_name(fields["docker_tag"], "docker_tag"))
    kind = fields["source_type"]
    if not isinstance(kind, str) or kind.lower() not in ("branch", "tag"):
        raise TriggerBodyError(f"source_type must be Branch or Tag, not {str(kind)[:40]!r}")
    if "source_name" not in fields:
        raise TriggerBodyError("source_type needs source_name (the branch or tag to build)")
    return TriggerRequest(source_type=RefKind(kind.lower()),
                          source_name=_name(fields["source_name"], "source_name"))


def _name(value: Any, field: str) -> str:
    """A non-empty, bounded string field."""
    if not isinstance(value, str) or not value.strip():
        raise TriggerBodyError(f"{field} must be a non-empty string")
    if len(value) > MAX_NAME_LENGTH:
        raise TriggerBodyError(f"{field} is longer than {MAX_NAME_LENGTH} characters")
    return value.strip()


def selections(repo: RepositoryConfig, request: TriggerRequest
               ) -> tuple[list[Selection], list[str]]:
    """(the Build nows a request runs, why each rule it names cannot build). A branch or tag
    goes to every rule matching it, regex rules included; a literal rule builds its own ref."""
    if request.source_type is not None:
        assert request.source_name is not None
        return [Selection(full_ref(request.source_type, request.source_name))], []
    chosen, reasons = [], []
    named = [rule for rule in repo.rules if request.docker_tag is None
             or request.docker_tag in (rule.tag.strip(), *split_templates(rule.tag))]
    for rule in named:
        if rule.is_regex:
            reasons.append(f"rule {rule.index + 1} ({rule.describe()}) has a regex source: "
                           "name the branch or tag with source_type and source_name")
        else:
            chosen.append(Selection(full_ref(rule.source_type, rule.source), rule.index))
    if not named:
        tags = ", ".join(dict.fromkeys(t for r in repo.rules for t in split_templates(r.tag)))
        reasons.append(f"no rule has the Docker tag {request.docker_tag!r} (the rules' tags: "
                       f"{tags or 'none'})")
    return chosen, reasons
