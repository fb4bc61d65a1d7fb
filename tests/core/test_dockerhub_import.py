"""`autobuild import dockerhub`'s conversion: Docker Hub's documented rule examples build the
same refs into the same tags once imported, and bad exports are refused naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from core.dockerhub_export import read_export
from core.dockerhub_rules import ImportedRules, rules_from_export, scalar
from core.errors import ExportError
from core.matching import explain_ref
from core.rules import RepositoryConfig
from core.rules_load import load_rules
from core.rules_yaml import Reader


def setting(source_type: str, source_name: str, tag: str, **extra: Any) -> dict[str, Any]:
    """One build setting with Docker Hub's field names and defaults."""
    return {"source_type": source_type, "source_name": source_name, "tag": tag,
            "dockerfile": "Dockerfile", "build_context": "/", "autobuild": True,
            "nocache": False, **extra}


def source(*settings: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One source object of Docker Hub's build API."""
    return {"provider": "Github", "owner": "acme", "repository": "webapp", "envvars": [],
            "autotests": "OFF", "repo_links": False, "build_settings": list(settings), **extra}


def imported(export: Any) -> ImportedRules:
    return rules_from_export(read_export(export))


def load(result: ImportedRules) -> list[RepositoryConfig]:
    """The imported rules as `autobuild rules check` loads them, the variables set."""
    names = result.web_variables + result.worker_variables
    environ = {name: "value-of-" + name.lower() for name, _ in names}
    return list(load_rules(result.text, environ=environ).repositories)


def tags(repo: RepositoryConfig, ref: str) -> list[str]:
    """The tags a push of `ref` builds (no image prefix), as `autobuild rules explain` says."""
    return [reference.rpartition(":")[2]
            for plan in explain_ref(repo, ref).plans for reference in plan.tags]


# Docker Hub's documented examples (shared/docs/anchors.md (b) 1 and 2): rule → ref → tags
DOCUMENTED = [
    pytest.param(("Branch", "main", "latest"), "refs/heads/main", ["latest"], id="DH1"),
    pytest.param(("Branch", "master", "latest"), "refs/tags/master", [], id="DH2"),
    pytest.param(("Tag", "^v([0-9.]+)$", "v{\\1}"), "refs/tags/v1.2.3", ["v1.2.3"], id="DH3"),
    pytest.param(("Tag", "/^v([0-9.]+)$/", "v{\\1}"), "refs/tags/v1.2.3", ["v1.2.3"],
                 id="DH3-slashes"),
    pytest.param(("Tag", "^v([0-9.]+)$", "v{\\1}"), "refs/tags/v1.2.3-rc1", [], id="DH4"),
    pytest.param(("Branch", "/[0-9.]+$/", "version-{sourceref}"), "refs/heads/release-1.2",
                 ["version-release-1.2"], id="DH5"),
    pytest.param(("Branch", "/[0-9.]+$/", "version-{sourceref}"), "refs/heads/1.2-dev", [],
                 id="DH6"),
    pytest.param(("Tag", "/^([0-9.]+)$/", "{sourceref},latest"), "refs/tags/1.4",
                 ["1.4", "latest"], id="DH7"),
    pytest.param(("Tag", "/^([0-9]+)\\.([0-9]+)\\.([0-9]+)$/", "{\\3}.{\\2}.{\\1}"),
                 "refs/tags/1.2.3", ["3.2.1"], id="DH8-groups"),
    pytest.param(("Branch", "master", "latest"), "refs/heads/master", ["latest"], id="DH9"),
    pytest.param(("Tag", "/^[0-9.]+$/", "release-{sourceref}"), "refs/tags/1.2.0",
                 ["release-1.2.0"], id="DH10"),
    pytest.param(("Tag", "/^[0-9.]+/", "release-{sourceref}"), "refs/tags/1.2.0-rc",
                 ["release-1.2.0-rc"], id="DH11"),
    pytest.param(("Branch", "main", ""), "refs/heads/main", ["main"], id="empty-tag"),
]


@pytest.mark.parametrize(("rule", "ref", "expected"), DOCUMENTED)
def test_documented_examples_build_the_same_tags(rule: tuple[str, str, str], ref: str,
                                                 expected: list[str]) -> None:
    (repo,) = load(imported(source(setting(*rule))))
    assert tags(repo, ref) == expected


def test_the_migration_guides_example_configuration() -> None:
    """docker/docker-rust-hello as Docker's migration guide describes it."""
    export = {"objects": [source(
        setting("Branch", "main", "latest"), setting("Tag", "^v([0-9.]+)$", "v{\\1}"),
        owner="docker", repository="docker-rust-hello",
        envvars=[{"key": "ENV_NAME", "value": "ENV_VALUE"}])]}
    (repo,) = load(imported(export))
    assert (repo.name, repo.provider, repo.image) == (
        "docker/docker-rust-hello", "github", "docker.io/docker/docker-rust-hello")
    assert repo.clone_url == "https://github.com/docker/docker-rust-hello.git"
    assert tags(repo, "refs/heads/main") == ["latest"]
    assert tags(repo, "refs/tags/v2.0") == ["v2.0"]
    assert repo.env == (("ENV_NAME", "ENV_VALUE"),) and repo.hooks is True


def test_each_setting_keeps_its_paths_toggles_and_order() -> None:
    export = source(
        setting("Branch", "main", "latest", dockerfile="docker/Dockerfile.prod",
                build_context="/srv", nocache=True),
        setting("Branch", "develop", "dev", autobuild=False, build_context=""),
        setting("Tag", "/^v/", "{sourceref}", dockerfile="/Dockerfile"))
    (repo,) = load(imported(export))
    first, second, third = repo.rules
    assert (first.dockerfile, first.context, first.cache) == ("docker/Dockerfile.prod", "/srv",
                                                              False)
    assert (second.autobuild, second.context, second.cache) == (False, "", True)
    assert third.dockerfile == "Dockerfile"
    (plan,) = explain_ref(repo, "refs/heads/main").plans
    assert (plan.dockerfile, plan.context) == ("srv/docker/Dockerfile.prod", "srv")
    assert explain_ref(repo, "refs/heads/develop").plans == ()
    assert explain_ref(repo, "refs/heads/develop", manual=True).plans


def test_secret_looking_variables_become_references_without_their_values() -> None:
    export = source(setting("Branch", "main", "latest"), envvars=[
        {"key": "NPM_TOKEN", "value": "npm_s3cret_value"}, {"key": "STAGE", "value": "prod"},
        {"key": "PRICE", "value": "${NOT_A_VARIABLE}"}, {"key": "SOURCE_BRANCH", "value": "x"}])
    result = imported(export)
    assert "npm_s3cret_value" not in result.text
    (repo,) = load(result)
    assert dict(repo.env) == {"STAGE": "prod", "PRICE": "${NOT_A_VARIABLE}"}
    assert [(n, r.env) for n, r in repo.secret_env] == [("NPM_TOKEN", "ACME_WEBAPP_NPM_TOKEN")]
    assert ("ACME_WEBAPP_NPM_TOKEN", "the value of Docker Hub's build variable NPM_TOKEN"
            ) in result.worker_variables
    assert "# Docker Hub build variable SOURCE_BRANCH is not imported: SOURCE_BRANCH is set " \
           "by Autobuild for hooks" in result.text


def test_what_has_no_equivalent_becomes_a_comment() -> None:
    result = imported(source(setting("Branch", "main", "latest"), autotests="SOURCE_AND_FORKS",
                             repo_links=True))
    assert "# Docker Hub autotests (SOURCE_AND_FORKS): no equivalent" in result.text
    assert "# Docker Hub repository links: no equivalent" in result.text
    quiet = imported(source(setting("Branch", "main", "latest")))
    assert "autotests" not in quiet.text and "repository links" not in quiet.text


def test_variables_to_set_and_the_image() -> None:
    result = rules_from_export(read_export(source(
        setting("Branch", "main", "latest"), image="/api/repo/v1/repository/hubns/Web-App/")),
        registry="registry.example.com")
    assert result.web_variables == (("HUBNS_WEB_APP_WEBHOOK_SECRET",
                                     "the github webhook's secret of acme/webapp"),)
    assert [n for n, _ in result.worker_variables] == ["HUBNS_WEB_APP_REGISTRY_PASSWORD"]
    (repo,) = load(result)
    assert repo.image == "registry.example.com/hubns/web-app"
    assert repo.registry_auth is not None and repo.registry_auth.username == "hubns"
    assert repo.secrets == ("value-of-hubns_web_app_webhook_secret",)


def test_several_objects_become_several_repositories() -> None:
    export = {"objects": [source(setting("Branch", "main", "latest")),
                          source(setting("Tag", "/.*/", "{sourceref}"), provider="Bitbucket",
                                 repository="api")]}
    first, second = load(imported(export))
    assert (second.provider, second.clone_url) == ("bitbucket",
                                                   "https://bitbucket.org/acme/api.git")
    assert tags(second, "refs/tags/1.0") == ["1.0"] and tags(first, "refs/tags/1.0") == []


@pytest.mark.parametrize(("export", "message"), [
    pytest.param([], "the export must be one Docker Hub source object", id="a-list"),
    pytest.param({"objects": []}, "objects: the list is empty", id="no-objects"),
    pytest.param({"objects": [source(setting("Branch", "main", "latest")), "nope"]},
                 "objects[1]: expected an object, got str", id="object-not-an-object"),
    pytest.param({"objects": [source(setting("Branch", "a", "b")), {"build_settings": []}]},
                 "objects[1].provider: is missing", id="missing-provider"),
    pytest.param(source(setting("Branch", "main", "latest"), provider="GitLab"),
                 "provider: unknown provider 'GitLab' (Docker Hub builds from GitHub or "
                 "Bitbucket)", id="unknown-provider"),
    pytest.param({"objects": [source(setting("Branch", "main", "x"),
                                     setting("Commit", "abc", "x"))]},
                 "objects[0].build_settings[1].source_type: unknown source type 'Commit' "
                 "(Docker Hub's are Branch and Tag)", id="unknown-source-type"),
    pytest.param(source({"source_type": "Branch", "tag": "x"}),
                 "build_settings[0].source_name: is missing", id="missing-source-name"),
    pytest.param(source(setting("Branch", "main", "x", nocache="yes")),
                 "build_settings[0].nocache: expected true or false, got str 'yes'",
                 id="nocache-not-a-bool"),
    pytest.param(source(), "build_settings: no build rules", id="no-settings"),
    pytest.param(source(setting("Branch", "main", "x"), owner=""), "owner: must not be empty",
                 id="empty-owner"),
    pytest.param(source(setting("Branch", "main", "x"), envvars="A=b"),
                 "envvars: expected a list of {key, value}", id="envvars-not-a-list"),
    pytest.param({"objects": [source(setting("Branch", "main", "latest")),
                              source(setting("Branch", "dev", "dev"))]},
                 "objects[1]: github acme/webapp is imported already from objects[0]",
                 id="same-repository-twice"),
    pytest.param(source(setting("Branch", "/[/", "x")),
                 "repositories[0].rules[0].source: invalid regex", id="invalid-regex"),
    pytest.param(source(setting("Branch", "main", "{nope}")),
                 "repositories[0].rules[0].tag:", id="unknown-template-variable"),
])
def test_bad_exports_name_the_field(export: Any, message: str) -> None:
    with pytest.raises(ExportError) as raised:
        imported(export)
    assert message in str(raised.value), str(raised.value)


@pytest.mark.parametrize("value", ["main", "latest", "yes", "1.10", "", "/", "{sourceref}",
                                   "v{\\1}", "it's", "${HOME}", "a: b", "#x", "tab\there",
                                   "/^v([0-9.]+)$/", "- item"])
def test_scalars_read_back_as_the_same_string(value: str) -> None:
    reader = Reader("<test>", environ={"HOME": "/root"})
    node = reader.compose(f"key: {scalar(value)}\n")
    assert node is not None and not reader.errors
    assert reader.string(node.value[0][1], "key") == value
