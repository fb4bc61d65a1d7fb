"""Reading and validating a build-rules file's text into the rules model (no I/O).

The caller reads the file. The YAML is composed with PyYAML's SafeLoader (never constructed from
arbitrary tags), so every error carries the line it comes from:
`build_rules.yaml:12: repositories[0].rules[2].source: …`. Every problem in the file is
collected and raised together as one RulesError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import yaml

from core import defaults, rules_build
from core.clone_urls import clone_url_problem
from core.errors import RulesError
from core.events import RefKind
from core.notify.rules import status_target, webhook_targets
from core.paths import build_path_problem, glob_problem
from core.regex import regex_problem
from core.rules import PROVIDERS, BuildRule, RepositoryConfig, RuleSet, compile_source
from core.rules_credentials import (
    git_auth,
    pull_auths,
    registry_auth,
    trigger_tokens,
    webhook_secrets,
)
from core.rules_rebuild import rebuild_policy
from core.rules_values import build_env, named_values
from core.rules_yaml import Reader
from core.tags import (
    SEMVER_VARIABLES,
    parse_semver,
    placeholders,
    repository_problem,
    sanitize_tag,
    split_templates,
    template_problems,
)

REPOSITORY_KEYS = frozenset({
    "name", "provider", "clone_url", "secret", "secrets", "insecure_no_secret", "image",
    "hooks", "registry_auth", "git_auth", "rules", "insecure_clone_url", "status", "notify",
    "trigger_token", "pull_auth", "env", "secret_env", "rebuild", "queue",
})
RULE_KEYS = frozenset({
    "source_type", "source", "tag", "dockerfile", "context", "autobuild", "build_args", "target",
    "secret_build_args", "included_files", "ignored_files", "cache", "nocache", "pull",
    "submodules", "lfs", "timeout", "labels", "env", "secret_env", "builder", "platforms",
    "secrets", "memory", "cpus", "rebuild", "queue",
})


def default_rules(builder: str = defaults.BUILDER) -> tuple[BuildRule, ...]:
    """Docker Hub's default rules for a repository without `rules`: main and master → latest."""
    return tuple(BuildRule(index=i, source_type=RefKind.BRANCH, source=branch, tag="latest",
                           builder=builder)
                 for i, branch in enumerate(defaults.DEFAULT_BRANCHES))


def load_rules(text: str, *, environ: Mapping[str, str], filename: str = "<rules>",
               builder: str = defaults.BUILDER) -> RuleSet:
    """The rule set in YAML `text` (`builder` for rules naming none: AUTOBUILD_BUILDER);
    raises RulesError listing every problem with file:line."""
    reader = Reader(filename, environ)
    root = reader.compose(text)
    repositories: list[RepositoryConfig] = []
    if root is not None:
        fields = reader.mapping(root, "", {"repositories"}, required=("repositories",))
        node = fields.get("repositories")
        items = [] if node is None else reader.sequence(node, "repositories") or []
        seen: dict[tuple[str, str], int] = {}
        tokens: dict[str, int] = {}
        for i, item in enumerate(items):
            repo = _repository(reader, item, f"repositories[{i}]", builder)
            if repo is None:
                continue
            key = (repo.provider, repo.name)
            if key in seen:
                reader.error(item, f"repositories[{i}].name", f"{repo.provider} repository "
                             f"{repo.name} is already configured at repositories[{seen[key]}]")
                continue
            shared = [tokens[t] for t in repo.trigger_tokens if t in tokens]
            if shared:
                reader.error(item, f"repositories[{i}].trigger_token", "a token of "
                             f"repositories[{shared[0]}] is used here too; a trigger token "
                             "must name one repository")
                continue
            seen[key] = i
            tokens.update(dict.fromkeys(repo.trigger_tokens, i))
            repositories.append(repo)
    if reader.errors:
        raise RulesError(reader.errors)
    return RuleSet(tuple(repositories))


def _repository(reader: Reader, node: yaml.Node, path: str, builder: str
                ) -> RepositoryConfig | None:
    """One repository entry, or None when it has errors (already reported)."""
    before = reader.count()
    f = reader.mapping(node, path, REPOSITORY_KEYS,
                       required=("name", "provider", "clone_url", "image"))
    name = reader.string(f.get("name"), f"{path}.name")
    if name is not None and (not re.fullmatch(r"[^\s/]+(?:/[^\s/]+)+", name)):
        reader.error(f["name"], f"{path}.name", f"{name!r} is not an owner/name repository name")
    provider = reader.string(f.get("provider"), f"{path}.provider")
    if provider is not None and provider not in PROVIDERS:
        reader.error(f["provider"], f"{path}.provider",
                     f"unknown provider {provider!r} (known: {', '.join(PROVIDERS)})")
    clone_url = reader.string(f.get("clone_url"), f"{path}.clone_url")
    plaintext_ok = reader.boolean(f.get("insecure_clone_url"), f"{path}.insecure_clone_url",
                                  False)
    if clone_url is not None and (
            problem := clone_url_problem(clone_url, insecure_allowed=plaintext_ok)):
        reader.error(f["clone_url"], f"{path}.clone_url", problem)
    image = reader.string(f.get("image"), f"{path}.image")
    if image is not None and (problem := repository_problem(image)):
        reader.error(f["image"], f"{path}.image", f"{image!r}: {problem}")
    secrets = webhook_secrets(reader, f, path)
    insecure = reader.boolean(f.get("insecure_no_secret"), f"{path}.insecure_no_secret", False)
    if not secrets and not insecure and "secret" not in f and "secrets" not in f:
        reader.error(node, path, "no webhook secret: set secret or secrets "
                     "(or insecure_no_secret: true to accept unsigned deliveries)")
    hooks = reader.boolean(f.get("hooks"), f"{path}.hooks", False)
    auth = registry_auth(reader, f.get("registry_auth"), f"{path}.registry_auth")
    git = git_auth(reader, f.get("git_auth"), f"{path}.git_auth")
    status = status_target(reader, f.get("status"), f"{path}.status", provider)
    notify = webhook_targets(reader, f.get("notify"), f"{path}.notify")
    tokens = trigger_tokens(reader, f.get("trigger_token"), f"{path}.trigger_token")
    pulls = pull_auths(reader, f.get("pull_auth"), f"{path}.pull_auth")
    env, secret_env = build_env(reader, f, path)
    rebuild = rebuild_policy(reader, f, path)
    queue = rules_build.queue(reader, f, path)
    rules_node = f.get("rules")
    rules = (default_rules(builder) if rules_node is None
             else _rules(reader, rules_node, f"{path}.rules", builder))
    if reader.count() > before:
        return None
    assert name and provider and clone_url and image
    repo = RepositoryConfig(
        name=name, provider=provider, clone_url=clone_url, image=image, secrets=secrets,
        insecure_no_secret=insecure, rules=rules, hooks=hooks, registry_auth=auth,
        git_auth=git, status=status, notify=notify,
        default_rules=rules_node is None, trigger_tokens=tokens,
        pull_auth=pulls, env=env, secret_env=secret_env, rebuild=rebuild, queue=queue,
    )
    return repo


def _rules(reader: Reader, node: yaml.Node, path: str, builder: str
           ) -> tuple[BuildRule, ...]:
    """The rules of one repository, checked each on its own and then against each other."""
    items = reader.sequence(node, path)
    if items is None:
        return ()
    if not items:
        reader.error(node, path, "rules: [] builds nothing; list at least one rule "
                     "(or omit rules for the defaults main/master → latest)")
        return ()
    rules: list[BuildRule] = []
    for i, item in enumerate(items):
        rule = _rule(reader, item, f"{path}[{i}]", i, builder)
        if rule is not None:
            rules.append(rule)
    _check_collisions(reader, rules, items, path)
    return tuple(rules)


def _rule(reader: Reader, node: yaml.Node, path: str, index: int, default_builder: str
          ) -> BuildRule | None:
    """One build rule, or None when it has errors (already reported)."""
    before = reader.count()
    f = reader.mapping(node, path, RULE_KEYS, required=("source_type", "source"))
    kind = reader.string(f.get("source_type"), f"{path}.source_type")
    if kind is not None and kind.lower() not in ("branch", "tag"):
        reader.error(f["source_type"], f"{path}.source_type",
                     f"must be branch or tag (Branch and Tag as Docker Hub spells them), "
                     f"not {kind!r}")
    source = reader.string(f.get("source"), f"{path}.source")
    groups: int | None = None
    if source is not None and source.strip() == "":
        reader.error(f["source"], f"{path}.source", "must not be empty")
    elif source is not None and len(source) >= 2 and source[0] == source[-1] == "/":
        problem = regex_problem(source[1:-1])
        if problem is None:
            groups = compile_source(source[1:-1]).groups
        else:
            reader.error(f["source"], f"{path}.source",
                         f"invalid regex (RE2 syntax, see the README): {problem}")
            groups = 9  # unknown: do not also report the templates' groups
        if source == "//":
            reader.error(f["source"], f"{path}.source", "empty regex //")
    tag = reader.string(f.get("tag"), f"{path}.tag", defaults.TAG_TEMPLATE)
    if tag is not None and source is not None:
        _check_templates(reader, f.get("tag") or node, f"{path}.tag", tag, source, groups)
    paths: dict[str, str] = {}
    for key, default in (("dockerfile", defaults.DOCKERFILE), ("context", defaults.CONTEXT)):
        value = reader.string(f.get(key), f"{path}.{key}", default)
        problem = None if value is None else build_path_problem(value, what=key)
        if problem is not None:
            reader.error(f[key], f"{path}.{key}", problem)
        paths[key] = value or ""
    target = reader.string(f.get("target"), f"{path}.target", None, nullable=True)
    if target == "":
        reader.error(f["target"], f"{path}.target", "must not be empty (omit it instead)")
    globs: dict[str, tuple[str, ...]] = {}
    for key in ("included_files", "ignored_files"):
        items = reader.string_list(f.get(key), f"{path}.{key}")
        for i, pattern in enumerate(items):
            if problem := glob_problem(pattern):
                reader.error(f[key], f"{path}.{key}[{i}]", problem)
        globs[key] = tuple(items)
    timeout = reader.integer(f.get("timeout"), f"{path}.timeout", defaults.BUILD_TIMEOUT)
    if timeout is not None and timeout <= 0:
        reader.error(f["timeout"], f"{path}.timeout", "must be a positive number of seconds")
    rule_flags = {k: reader.boolean(f.get(k), f"{path}.{k}", d) for k, d in
                  (("autobuild", defaults.AUTOBUILD), ("cache", defaults.CACHE),
                   ("pull", defaults.PULL), ("submodules", defaults.SUBMODULES),
                   ("lfs", defaults.LFS))}
    if "nocache" in f:
        rule_flags["cache"] = not reader.boolean(f["nocache"], f"{path}.nocache", False)
        if "cache" in f:
            reader.error(f["nocache"], f"{path}.nocache", "set either cache or nocache "
                         "(Docker Hub's spelling: nocache: true is cache: false), not both")
    build_args, secret_args = named_values(reader, f, path, values="build_args",
                                           secrets="secret_build_args")
    env, secret_env = build_env(reader, f, path)
    builder = rules_build.builder(reader, f, path, default_builder)
    platforms = rules_build.platforms(reader, f, path, builder)
    secrets = rules_build.secrets(reader, f, path, builder)
    limits = rules_build.limits(reader, f, path)
    queue = rules_build.queue(reader, f, path)
    labels = reader.string_map(f.get("labels"), f"{path}.labels")
    rebuild = rebuild_policy(reader, f, path)
    if reader.count() > before:
        return None
    assert kind is not None and source is not None and tag is not None and timeout is not None
    return BuildRule(
        index=index, source_type=RefKind(kind.lower()), source=source, tag=tag,
        dockerfile=paths["dockerfile"], context=paths["context"], target=target,
        build_args=build_args, secret_build_args=secret_args, labels=labels, builder=builder,
        platforms=platforms, secrets=secrets, limits=limits,
        included_files=globs["included_files"],
        ignored_files=globs["ignored_files"], timeout=timeout, env=env, secret_env=secret_env,
        rebuild=rebuild, queue=queue, **rule_flags,
    )


def _check_templates(
    reader: Reader, node: yaml.Node, path: str, tag: str, source: str, groups: int | None
) -> None:
    """Report invalid tag templates, and templates a literal source can never render."""
    templates = split_templates(tag)
    if not templates:
        reader.error(node, path, "no tag template (give one or more, comma separated)")
    is_regex = len(source) >= 2 and source[0] == source[-1] == "/"
    for template in templates:
        for problem in template_problems(template, groups=groups if is_regex else None):
            reader.error(node, path, problem)
        used = [name for name in placeholders(template) if name in SEMVER_VARIABLES]
        semver = parse_semver(source)
        if used and not is_regex and (semver is None or semver.prerelease and used != ["version"]):
            reader.error(node, path, f"tag template {template!r} never renders: "
                         f"{source} is not a semver name its placeholders need")


def _check_collisions(
    reader: Reader, rules: list[BuildRule], nodes: list[yaml.Node], path: str
) -> None:
    """Report two rules pushing the same literal tag for refs both can match.

    Only literal templates (no placeholders) are compared, after sanitising. Two rules can match
    the same ref when they have the same source_type and either the same literal source or at
    least one regex source (regexes are not compared with each other).
    """
    literal = {r.index: {sanitize_tag(t) for t in split_templates(r.tag) if "{" not in t}
               for r in rules}
    for j, later in enumerate(rules):
        for earlier in rules[:j]:
            if earlier.source_type is not later.source_type:
                continue
            if not (earlier.is_regex or later.is_regex or earlier.source == later.source):
                continue
            for tag in sorted(literal[earlier.index] & literal[later.index]):
                reader.error(_tag_node(nodes[later.index]), f"{path}[{later.index}].tag",
                             f"tag {tag!r} is also pushed by rules[{earlier.index}] "
                             f"({earlier.describe()}) for the same refs: two builds racing "
                             "for one tag")


def _tag_node(node: yaml.Node) -> yaml.Node:
    """The node to report a collision at: the rule's `tag` value when present, else the rule."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "tag":
                found: yaml.Node = value
                return found
    return node
