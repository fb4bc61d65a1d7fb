"""What one build will do, as a JSON-serialisable value (no I/O).

A BuildPlan is made by core/rules.py `match` from a push (or a "Build now") and one rule; it is
stored with the build record, so the worker builds exactly what was decided when it was queued.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TRIGGER_PUSH = "push"
TRIGGER_MANUAL = "manual"
TRIGGER_RETRY = "retry"


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
    """

    repository: str
    provider: str
    rule_index: int
    ref: str
    commit: str
    clone_url: str
    image: str
    tags: tuple[str, ...]
    dockerfile: str = "Dockerfile"
    context: str = "."
    build_args: tuple[tuple[str, str], ...] = ()
    secret_build_args: tuple[str, ...] = ()
    target: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    cache: bool = True
    pull: bool = False
    submodules: bool = False
    hooks: bool = False
    timeout: int = 3600
    before: str | None = None
    path_filter: PathFilter | None = None
    commit_message: str = ""
    trigger: str = TRIGGER_PUSH
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.tags:
            raise ValueError("a build plan needs at least one image reference")
        if len(self.commit) != 40 or any(c not in "0123456789abcdef" for c in self.commit):
            raise ValueError(f"commit must be 40 lowercase hex characters, got {self.commit!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `from_dict` reverses it."""
        data = asdict(self)
        data["tags"] = list(self.tags)
        data["build_args"] = [list(pair) for pair in self.build_args]
        data["secret_build_args"] = list(self.secret_build_args)
        data["labels"] = [list(pair) for pair in self.labels]
        if self.path_filter is not None:
            data["path_filter"] = {
                "included_files": list(self.path_filter.included_files),
                "ignored_files": list(self.path_filter.ignored_files),
            }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildPlan:
        """The plan `to_dict` produced."""
        values = dict(data)
        values["tags"] = tuple(values["tags"])
        values["build_args"] = tuple((str(k), str(v)) for k, v in values.get("build_args", ()))
        values["secret_build_args"] = tuple(values.get("secret_build_args", ()))
        values["labels"] = tuple((str(k), str(v)) for k, v in values.get("labels", ()))
        pf = values.get("path_filter")
        if pf is not None:
            values["path_filter"] = PathFilter(
                tuple(pf.get("included_files", ())), tuple(pf.get("ignored_files", ()))
            )
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})

    @property
    def short_commit(self) -> str:
        """The 7-character commit abbreviation used on pages."""
        return self.commit[:7]
