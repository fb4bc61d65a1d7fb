"""The build rules model: repositories, their rules and credentials, as frozen values (no I/O).

Docker Hub parity: a rule matches a branch or a tag by exact name or by an unanchored `/regex/`;
its `tag` templates (core/tags.py) name the image tags pushed. core/rules_load.py reads this model
from a rules file's text, core/matching.py decides what a push builds. `BuildRule.index` is the
rule's 0-based position in its repository's list (`rules[0]` in load errors); explanations
number rules from 1 ("rule 1"), like Docker Hub's UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core import defaults
from core.build_limits import BuildLimits
from core.credentials import GitAuth, PullAuth, RegistryAuth, SecretRef
from core.events import RefKind
from core.notify.targets import StatusTarget, WebhookTarget
from core.rebuild_policy import RebuildPolicy
from core.regex import compile_regex
from core.tags import split_templates

PROVIDERS = ("github", "bitbucket", "gitlab", "gitea")


def compile_source(pattern: str) -> Any:
    """The compiled RE2 regex of a `/regex/` source (cached; RegexError when invalid)."""
    return compile_regex(pattern)


@dataclass(frozen=True)
class BuildRule:
    """One Docker Hub style build rule: which refs build, and how and to which tags."""

    index: int
    source_type: RefKind
    source: str
    tag: str = defaults.TAG_TEMPLATE
    dockerfile: str = defaults.DOCKERFILE
    context: str = defaults.CONTEXT
    autobuild: bool = defaults.AUTOBUILD
    build_args: tuple[tuple[str, str], ...] = ()
    secret_build_args: tuple[tuple[str, SecretRef], ...] = ()
    target: str | None = None
    included_files: tuple[str, ...] = ()
    ignored_files: tuple[str, ...] = ()
    cache: bool = defaults.CACHE
    pull: bool = defaults.PULL
    submodules: bool = defaults.SUBMODULES
    timeout: int = defaults.BUILD_TIMEOUT
    labels: tuple[tuple[str, str], ...] = ()
    builder: str = defaults.BUILDER
    platforms: tuple[str, ...] = ()
    secrets: tuple[tuple[str, SecretRef], ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    secret_env: tuple[tuple[str, SecretRef], ...] = ()
    lfs: bool = defaults.LFS
    limits: BuildLimits = BuildLimits()
    rebuild: RebuildPolicy | None = None
    queue: str | None = None

    @property
    def is_regex(self) -> bool:
        """True when `source` is a `/regex/` rather than an exact name."""
        return len(self.source) >= 2 and self.source.startswith("/") and self.source.endswith("/")

    @property
    def pattern(self) -> str:
        """The regex between the slashes (only meaningful when `is_regex`)."""
        return self.source[1:-1]

    def describe(self) -> str:
        """A short human form such as "branch main → latest"."""
        return f"{self.source_type.value} {self.source} → {', '.join(split_templates(self.tag))}"


@dataclass(frozen=True)
class RepositoryConfig:
    """One forge repository, where its images go, and its rules; repr never shows secrets."""

    name: str
    provider: str
    clone_url: str
    image: str
    secrets: tuple[str, ...] = field(default=(), repr=False)
    insecure_no_secret: bool = False
    rules: tuple[BuildRule, ...] = ()
    hooks: bool = defaults.HOOKS
    registry_auth: RegistryAuth | None = None
    default_rules: bool = False
    git_auth: GitAuth | None = None
    status: StatusTarget | None = None
    notify: tuple[WebhookTarget, ...] = ()
    trigger_tokens: tuple[str, ...] = field(default=(), repr=False)
    pull_auth: tuple[PullAuth, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    secret_env: tuple[tuple[str, SecretRef], ...] = ()
    rebuild: RebuildPolicy | None = None
    queue: str | None = None

    def rebuild_policy(self, rule: BuildRule) -> RebuildPolicy:
        """The rule's `rebuild:` keys over the repository's (core/rebuild_policy.py)."""
        return (rule.rebuild or RebuildPolicy()).over(self.rebuild)

    def rule_queue(self, rule: BuildRule) -> str:
        """The RQ queue `rule`'s builds wait on: the rule's `queue`, else the repository's,
        else the default `builds`."""
        return rule.queue or self.queue or defaults.QUEUE_NAME

    def rule_env(self, rule: BuildRule
                 ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, SecretRef], ...]]:
        """(plain, secret) build environment variables of `rule`: the repository's `env`,
        each name the rule sets itself replaced by the rule's value."""
        own = {name for name, _ in rule.env} | {name for name, _ in rule.secret_env}
        plain = tuple((n, v) for n, v in self.env if n not in own) + rule.env
        secret = tuple((n, r) for n, r in self.secret_env if n not in own) + rule.secret_env
        return plain, secret


@dataclass(frozen=True)
class RuleSet:
    """Every configured repository."""

    repositories: tuple[RepositoryConfig, ...]

    def find(self, provider: str, name: str) -> RepositoryConfig | None:
        """The repository with exactly this provider and name, or None."""
        return next(
            (r for r in self.repositories if r.provider == provider and r.name == name), None
        )

    def queues(self) -> tuple[str, ...]:
        """Every queue the rules send builds to, sorted (the default `builds` always)."""
        return tuple(sorted({defaults.QUEUE_NAME} | {
            repo.rule_queue(rule) for repo in self.repositories for rule in repo.rules}))

    def by_name(self, name: str) -> RepositoryConfig | None:
        """The first repository with this name, whatever its provider, or None."""
        return next((r for r in self.repositories if r.name == name), None)
