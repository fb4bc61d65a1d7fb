"""What one build will do, as a JSON-serialisable value (no I/O).

A BuildPlan is made by core/matching.py `match` from a push (or a "Build now") and one rule; it
is stored with the build record, so the worker builds exactly what was decided when it was
queued, with the credentials it names. Secrets in a plan are SecretRefs (core/credentials.py):
the database and the queue never hold their values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any

from core import defaults
from core.build_limits import BuildLimits
from core.credentials import GitAuth, PullAuth, RegistryAuth, SecretRef
from core.notify.targets import StatusTarget, WebhookTarget

TRIGGER_PUSH = "push"
TRIGGER_MANUAL = "manual"
TRIGGER_RETRY = "retry"
TRIGGER_URL = "trigger"
"""A Docker Hub trigger URL's call: a Build now that a script made with a trigger token."""
TRIGGER_BASE_IMAGE = "base_image"
"""A rebuild because a base image of the rule's latest build changed (core/rebuilds.py)."""
TRIGGER_SCHEDULE = "schedule"
"""A rebuild on the rule's `rebuild: {schedule: …}`."""
TRIGGERS = (TRIGGER_PUSH, TRIGGER_MANUAL, TRIGGER_RETRY, TRIGGER_URL, TRIGGER_BASE_IMAGE,
            TRIGGER_SCHEDULE)
"""Every trigger a build can have, as the API and the filters spell them."""

INPUT_FIELDS = ("dockerfile", "context", "build_args", "secret_build_args", "target",
                "builder", "platforms", "secrets")
"""What decides the image a commit builds into: two plans of one rule and commit that agree on
these reuse one image (the other ref's build is a retag)."""


@dataclass(frozen=True)
class PathFilter:
    """Cloud Build style path filter the worker applies when the payload did not list the files."""

    included_files: tuple[str, ...] = ()
    ignored_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildPlan:
    """Everything a worker needs to build and push one rule's image for one commit.

    `context` and `dockerfile` are normalised paths relative to the repository root
    ("." is the root); `tags` are full image references (`registry/repo:tag`).
    `path_filter` is set only when the worker must compute the changed files itself
    (between `before` and `commit`) and skip the build when the filter says no.
    `secret_build_args` are build arguments whose values the worker resolves at build time;
    `secrets` are build secrets by id (RUN --mount=type=secret,id=…), resolved the same way.
    `builder` is buildkit or classic; `platforms` () means the worker's own platform.
    `env`/`secret_env` are the build environment variables hooks get (secret ones resolved by
    the worker); `pull_auth` the registry credentials for base images; `lfs` fetches Git LFS
    objects into the checkout. `memory_limit` (bytes) and `cpu_limit` (thousandths of a CPU)
    are the rule's own limits; None takes the worker's default (core/build_limits.py);
    `queue` is the RQ queue the build waits on (`builds`, or the rule's `queue:` for workers
    with a capability).
    `forced` says the push was forced (the ref moved to a commit that need not descend from
    `before`); `fixed_tags` are the tags from templates without placeholders (`latest`), which
    every ref of the rule moves; `move_tags_back` is a confirmed Retry of an older commit.
    `status` and `notify` say whom the notifier tells about the build (core/notify).
    """

    repository: str
    provider: str
    rule_index: int
    ref: str
    commit: str
    clone_url: str
    image: str
    tags: tuple[str, ...]
    dockerfile: str
    context: str
    build_args: tuple[tuple[str, str], ...] = ()
    secret_build_args: tuple[tuple[str, SecretRef], ...] = ()
    target: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    cache: bool = defaults.CACHE
    pull: bool = defaults.PULL
    submodules: bool = defaults.SUBMODULES
    hooks: bool = defaults.HOOKS
    timeout: int = defaults.BUILD_TIMEOUT
    before: str | None = None
    path_filter: PathFilter | None = None
    commit_message: str = ""
    trigger: str = TRIGGER_PUSH
    registry_auth: RegistryAuth | None = None
    git_auth: GitAuth | None = None
    forced: bool = False
    fixed_tags: tuple[str, ...] = ()
    move_tags_back: bool = False
    status: StatusTarget | None = None
    notify: tuple[WebhookTarget, ...] = ()
    builder: str = defaults.BUILDER
    platforms: tuple[str, ...] = ()
    secrets: tuple[tuple[str, SecretRef], ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    secret_env: tuple[tuple[str, SecretRef], ...] = ()
    pull_auth: tuple[PullAuth, ...] = ()
    lfs: bool = defaults.LFS
    memory_limit: int | None = None
    cpu_limit: int | None = None
    queue: str = defaults.QUEUE_NAME
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.tags:
            raise ValueError("a build plan needs at least one image reference")
        if len(self.commit) != 40 or any(c not in "0123456789abcdef" for c in self.commit):
            raise ValueError(f"commit must be 40 lowercase hex characters, got {self.commit!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `from_dict` reverses it."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["tags"] = list(self.tags)
        data["fixed_tags"] = list(self.fixed_tags)
        data["build_args"] = [list(pair) for pair in self.build_args]
        data["secret_build_args"] = [[name, ref.to_dict()] for name, ref in
                                     self.secret_build_args]
        data["labels"] = [list(pair) for pair in self.labels]
        data["platforms"] = list(self.platforms)
        data["secrets"] = [[secret_id, ref.to_dict()] for secret_id, ref in self.secrets]
        data["env"] = [list(pair) for pair in self.env]
        data["secret_env"] = [[name, ref.to_dict()] for name, ref in self.secret_env]
        data["pull_auth"] = [auth.to_dict() for auth in self.pull_auth]
        data["extra"] = dict(self.extra)
        if self.path_filter is not None:
            data["path_filter"] = {
                "included_files": list(self.path_filter.included_files),
                "ignored_files": list(self.path_filter.ignored_files),
            }
        data["registry_auth"] = self.registry_auth.to_dict() if self.registry_auth else None
        data["git_auth"] = self.git_auth.to_dict() if self.git_auth else None
        data["status"] = self.status.to_dict() if self.status else None
        data["notify"] = [target.to_dict() for target in self.notify]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildPlan:
        """The plan `to_dict` produced (also from records of earlier versions)."""
        values = dict(data)
        values["tags"] = tuple(values["tags"])
        values["fixed_tags"] = tuple(values.get("fixed_tags", ()))
        values["build_args"] = tuple((str(k), str(v)) for k, v in values.get("build_args", ()))
        # Earlier versions listed secret build arguments by name, with values in build_args.
        values["secret_build_args"] = tuple(
            (str(item[0]), SecretRef.from_dict(item[1]))
            for item in values.get("secret_build_args", ()) if isinstance(item, list))
        values["labels"] = tuple((str(k), str(v)) for k, v in values.get("labels", ()))
        values["builder"] = str(values.get("builder") or defaults.LEGACY_PLAN_BUILDER)
        values["platforms"] = tuple(str(p) for p in values.get("platforms", ()))
        values["secrets"] = tuple((str(item[0]), SecretRef.from_dict(item[1]))
                                  for item in values.get("secrets", ()))
        values["env"] = tuple((str(k), str(v)) for k, v in values.get("env", ()))
        values["secret_env"] = tuple((str(name), SecretRef.from_dict(ref))
                                     for name, ref in values.get("secret_env", ()))
        values["pull_auth"] = tuple(PullAuth.from_dict(a) for a in values.get("pull_auth", ()))
        values["queue"] = str(values.get("queue") or defaults.QUEUE_NAME)
        pf = values.get("path_filter")
        if pf is not None:
            values["path_filter"] = PathFilter(
                tuple(pf.get("included_files", ())), tuple(pf.get("ignored_files", ()))
            )
        if values.get("registry_auth"):
            values["registry_auth"] = RegistryAuth.from_dict(values["registry_auth"])
        if values.get("git_auth"):
            values["git_auth"] = GitAuth.from_dict(values["git_auth"])
        status = values.get("status")
        values["status"] = StatusTarget.from_dict(status) if status else None
        values["notify"] = tuple(WebhookTarget.from_dict(t) for t in values.get("notify") or ())
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def inputs_key(self) -> str:
        """A fingerprint of INPUT_FIELDS: equal keys on one rule and commit, equal images."""
        data = self.to_dict()
        chosen = {name: data[name] for name in INPUT_FIELDS}
        if self.lfs:  # LFS files change the image; plans without it keep their earlier keys
            chosen["lfs"] = True
        if self.queue != defaults.QUEUE_NAME:  # another queue's workers may be another platform
            chosen["queue"] = self.queue
        text = json.dumps(chosen, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def limits(self) -> BuildLimits:
        """The rule's own limits, as planned."""
        return BuildLimits(memory=self.memory_limit, millicpus=self.cpu_limit)

    @property
    def short_commit(self) -> str:
        """The 7-character commit abbreviation used on pages."""
        return self.commit[:7]
