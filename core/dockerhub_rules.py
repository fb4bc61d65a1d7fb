"""Docker Hub build settings as our rules file: `repositories:` entries with comments (no I/O).

One rule per build setting, in Docker Hub's order, so rule N here is rule N there: source
type, source (a name or `/regex/`), Docker tag templates, Dockerfile and context as Docker Hub
read them; `nocache` becomes `cache: false`. Secrets become `${VARIABLES}` to set (never a
value from the export); what has no equivalent becomes a comment saying so. The text is loaded
back before it is returned, so it always passes `autobuild rules check` once the variables are
set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.credentials import looks_secret
from core.dockerhub_export import HubBuildSetting, HubSource
from core.errors import ExportError, RulesError
from core.rules_load import load_rules
from core.rules_values import env_name_problem

_PLAIN = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./:@-]*(?<!:)")
_YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"}
_NOT_IN_REF_NAMES = re.compile(r"[\^~:?*\[\\ ]")
"""Characters git refuses in branch and tag names: a source holding one is a regex."""
CLONE_URLS = {"github": "https://github.com/{}/{}.git",
              "bitbucket": "https://bitbucket.org/{}/{}.git"}


@dataclass(frozen=True)
class ImportedRules:
    """The rules text, and the variables to set: (name, what it is for) each."""

    text: str
    web_variables: tuple[tuple[str, str], ...]
    worker_variables: tuple[tuple[str, str], ...]


def scalar(value: str) -> str:
    """`value` as a YAML scalar the rules reader reads back as exactly that string."""
    value = value.replace("${", "$${")  # the reader expands ${VAR}; keep Docker Hub's text
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    if value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


def variable_prefix(image: str) -> str:
    """ACME_WEBAPP for acme/webapp: the start of every variable an import introduces."""
    return re.sub(r"[^A-Z0-9]+", "_", image.upper()).strip("_") or "IMPORTED"


def rules_from_export(sources: tuple[HubSource, ...], *, registry: str = "docker.io"
                      ) -> ImportedRules:
    """The rules file text for these sources; ExportError when they cannot be our rules."""
    web: list[tuple[str, str]] = []
    worker: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], str] = {}
    entries = []
    for source in sources:
        key = (source.provider, f"{source.owner}/{source.repository}")
        if key in seen:
            raise ExportError(f"{source.where}: {key[0]} {key[1]} is imported already from "
                              f"{seen[key] or 'the export'}; Autobuild builds one image per "
                              "repository entry")
        seen[key] = source.where
        entries.append(_repository(source, registry, web, worker))
    header = ["# Autobuild rules imported from a Docker Hub build-settings export "
              "(autobuild import dockerhub).",
              "# Check them with: autobuild rules check FILE, then autobuild rules explain."]
    for where, names in (("the web process", web), ("the workers", worker)):
        if names:
            header.append(f"# Set for {where}: " + ", ".join(name for name, _ in names))
    text = "\n".join(header) + "\nrepositories:\n" + "".join(entries)
    _check(text, web + worker)
    return ImportedRules(text, tuple(web), tuple(worker))


def _repository(source: HubSource, registry: str, web: list[tuple[str, str]],
                worker: list[tuple[str, str]]) -> str:
    """One `repositories:` entry."""
    name = f"{source.owner}/{source.repository}"
    image_name = source.image or name.lower()
    prefix = variable_prefix(image_name)
    secret, password = f"{prefix}_WEBHOOK_SECRET", f"{prefix}_REGISTRY_PASSWORD"
    web.append((secret, f"the {source.provider} webhook's secret of {name}"))
    worker.append((password, f"a {registry} access token that may push {image_name}"))
    namespace = image_name.split("/")[0]
    clone_url = CLONE_URLS[source.provider].format(source.owner, source.repository)
    lines = [
        f"  # From Docker Hub{' ' + source.where if source.where else ''}: "
        f"{source.provider} {name} -> {image_name}",
        f"  - name: {scalar(name)}",
        f"    provider: {source.provider}",
        f"    clone_url: {scalar(clone_url)}",
        "    # a private repository? Docker Hub used a deploy key; give a token (or ssh_key_file):",
        f"    # git_auth: {{username: x-access-token, token: '${{{prefix}_GIT_TOKEN}}'}}",
        f"    secret: ${{{secret}}}",
        f"    image: {scalar(f'{registry}/{image_name}')}",
        "    registry_auth:  # push credentials; drop it when the workers' docker login has them",
        f"      username: {scalar(namespace)}",
        f"      password: ${{{password}}}",
        "    # scripts call Docker Hub's trigger URLs? set a token (see the repository page):",
        f"    # trigger_token: ${{{prefix}_TRIGGER_TOKEN}}",
        "    hooks: true  # Docker Hub ran hooks/ beside the Dockerfile (they run on the worker)",
    ]
    lines += _env_lines(source, prefix, worker)
    if source.autotests.upper() not in ("OFF", "FALSE", ""):
        lines += [f"    # Docker Hub autotests ({source.autotests}): no equivalent; Autobuild does "
                  "not run *.test.yml compose files.",
                  "    # A hooks/test script runs after the build instead, and its failure "
                  "stops the push."]
    if source.repo_links:
        lines += ["    # Docker Hub repository links: no equivalent (Docker Hub dropped them "
                  "too); call this",
                  "    # repository's trigger URL from the upstream's post_push hook instead."]
    lines.append("    rules:")
    for number, setting in enumerate(source.build_settings, start=1):
        lines += _rule(setting, number)
    return "\n".join(lines) + "\n"


def _env_lines(source: HubSource, prefix: str, worker: list[tuple[str, str]]) -> list[str]:
    """`env:` and `secret_env:` for Docker Hub's build environment variables; secret-looking
    ones become ${VARIABLES} to set on the workers (their values are not copied)."""
    env: list[str] = []
    secret: list[str] = []
    notes: list[str] = []
    for key, value in source.envvars:
        if env_name_problem(key):
            notes.append(f"    # Docker Hub build variable {key} is not imported: "
                         f"{env_name_problem(key)}")
        elif looks_secret(key):
            worker.append((f"{prefix}_{key}", f"the value of Docker Hub's build variable {key}"))
            env.append(f"      {key}: ${{{prefix}_{key}}}")
            secret.append(key)
        else:
            env.append(f"      {key}: {scalar(value)}")
    lines = notes + (["    env:"] + env if env else [])
    if secret:
        lines.append(f"    secret_env: [{', '.join(secret)}]")
    return lines


def _rule(setting: HubBuildSetting, number: int) -> list[str]:
    """One rule, numbered like Docker Hub's list."""
    source = setting.source_name
    lines = [f"      # Docker Hub rule {number}"]
    is_regex = source.startswith("/") and source.endswith("/") and len(source) > 1
    if not is_regex and _NOT_IN_REF_NAMES.search(source):
        lines.append(f"      # source {source!r} cannot be a branch or tag name: imported as "
                     "the regex it is")
        source = f"/{source}/"
    lines += [f"      - source_type: {setting.source_type.value}",
              f"        source: {scalar(source)}"]
    if setting.tag:
        lines.append(f"        tag: {scalar(setting.tag)}")
    else:
        lines.append("        # Docker Tag was empty: the branch or tag name itself")
    lines += [f"        dockerfile: {scalar(setting.dockerfile)}",
              f"        context: {scalar(setting.build_context)}"]
    if not setting.autobuild:
        lines.append("        autobuild: false  # Docker Hub's Autobuild toggle was off")
    if setting.nocache:
        lines.append("        cache: false  # Docker Hub's nocache: true")
    return lines


def _check(text: str, variables: list[tuple[str, str]]) -> None:
    """Load the text back with placeholder values; ExportError with the loader's problems."""
    placeholders = {name: "placeholder-value-0123456789" for name, _ in variables}
    try:
        load_rules(text, environ=placeholders, filename="<imported rules>")
    except RulesError as exc:
        raise ExportError("the imported rules would not load (repositories[N] is the N-th "
                          "object, rules[N] its N-th build setting):\n  "
                          + "\n  ".join(exc.errors)) from None
