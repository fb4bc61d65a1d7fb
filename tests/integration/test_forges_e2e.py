"""Every forge end to end on the real stack: a real payload, rewritten and signed, becomes a
pushed image (the real app, Redis queue, worker process, Docker engine and registry)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
from flask import Flask

from core.events import short_ref
from tests.conftest import git, make_repo
from tests.core.fixtures import fixture
from tests.forge_hooks import (
    ANNOTATED_TAG,
    AUTH,
    NAMES,
    PROVIDER,
    TAG,
    make_hook,
    rules_text,
)
from tests.integration.conftest import (
    BASE_IMAGE,
    RulesWriter,
    read_file_from_registry_image,
    registry_digest,
    unique_image,
    wait_for_build,
)

pytestmark = pytest.mark.both_databases


@dataclass(frozen=True)
class Source:
    """The module's source repository: a bare repo with one commit on main and tag TAG."""

    bare: Path
    commit: str
    marker: str
    tag_object: str  # the annotated tag ANNOTATED_TAG, pointing at `commit`


@pytest.fixture(scope="module")
def forge_source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    """One small repository every forge's build uses (its layers are cached after the first)."""
    marker = uuid.uuid4().hex
    bare, commit = make_repo(tmp_path_factory.mktemp("forges-src"), {
        "Dockerfile": (f"FROM {BASE_IMAGE}\nCOPY . /src\n"
                       "RUN echo \"run-step-output $(cat /src/marker.txt)\"\n"),
        "marker.txt": marker,
    })
    git("tag", TAG, commit, cwd=bare)
    git("tag", "-a", ANNOTATED_TAG, "-m", "Release 2.0.0", commit, cwd=bare)
    return Source(bare, commit, marker, git("rev-parse", ANNOTATED_TAG, cwd=bare))


@dataclass(frozen=True)
class Case:
    """One building delivery: a fixture, the ref it pushes, and how it is encoded.

    A push of a commit a rule already built is skipped, so a case that pushes the same ref and
    commit as another one names its own repository.
    """

    file: str
    ref: str
    form: bool = False
    name: str | None = None


BUILD_CASES = [
    pytest.param(Case("github/push-branch.json", "refs/heads/main"), id="github-push"),
    pytest.param(Case("github/push-branch.json", "refs/heads/main", form=True,
                      name="it-forges/gh-form-app"),
                 id="github-push-form"),
    pytest.param(Case("github/push-tag.json", f"refs/tags/{TAG}"), id="github-tag"),
    pytest.param(Case("gitea/push-branch.json", "refs/heads/main"), id="gitea-push"),
    pytest.param(Case("gitlab/push-branch.json", "refs/heads/main"), id="gitlab-push"),
    pytest.param(Case("gitlab/tag-push-create.json", f"refs/tags/{TAG}"), id="gitlab-tag"),
    pytest.param(Case("bitbucket-cloud/push-branch.json", "refs/heads/main"),
                 id="bitbucket-cloud-push"),
    pytest.param(Case("bitbucket-server/refs-changed-branch-update.json", "refs/heads/main"),
                 id="bitbucket-server-refs-changed"),
]


@pytest.mark.integration
@pytest.mark.parametrize("case", BUILD_CASES)
def test_forge_push_becomes_image_in_registry(
    case: Case, live_app: tuple[Flask, RulesWriter], forge_source: Source,
    docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    flavour = fixture(case.file).provider
    image = unique_image(f"fe-{flavour}")
    name = case.name or NAMES[flavour]
    write_rules(rules_text(f"file://{forge_source.bare}", {flavour: image}, {flavour: name}))
    hook = make_hook(case.file, name, ref=case.ref, commit=forge_source.commit,
                     form=case.form)
    client = app.test_client()

    response = hook.post(client)

    assert response.status_code == 202, response.get_json()
    assert len(response.get_json()["builds"]) == 1, response.get_json()
    (queued,) = response.get_json()["builds"]
    reference = f"{image}:{short_ref(case.ref) if '/tags/' in case.ref else 'latest'}"
    assert queued["status"] == "queued"
    assert (queued["ref"], queued["commit"]) == (case.ref, forge_source.commit)
    assert (queued["repository"], queued["provider"]) == (name, PROVIDER[flavour])
    assert queued["tags"] == [reference]
    assert queued["delivery_id"] == hook.delivery
    build = wait_for_build(client, queued["id"])
    assert build["status"] == "success", build["error"]
    assert build["commit"] == forge_source.commit
    assert build["digest"] == registry_digest(reference)
    assert read_file_from_registry_image(docker_client, reference,
                                         "/src/marker.txt") == forge_source.marker
    deliveries = client.get("/api/deliveries", headers=AUTH).get_json()["deliveries"]
    (logged,) = [d for d in deliveries if d["delivery_id"] == hook.delivery]
    assert (logged["forge"], logged["outcome"], logged["status_code"]) == (
        hook.forge, "queued", 202)
    assert logged["build_ids"] == [queued["id"]] and logged["refs"] == [case.ref]


@pytest.mark.integration
def test_gitlab_annotated_tag_push_builds_the_tagged_commit(
    live_app: tuple[Flask, RulesWriter], forge_source: Source,
    docker_client: docker.DockerClient,
) -> None:
    """GitLab sends the tag object as `after` (commit in `checkout_sha`); the worker peels it."""
    app, write_rules = live_app
    image = unique_image("fe-gitlab-annotated")
    name = "it-group/sub-group/gl-annotated"
    write_rules(rules_text(f"file://{forge_source.bare}", {"gitlab": image}, {"gitlab": name}))
    ref = f"refs/tags/{ANNOTATED_TAG}"

    def checkout_commit(payload: dict[str, Any]) -> None:
        payload["checkout_sha"] = payload["commits"][0]["id"] = forge_source.commit

    hook = make_hook("gitlab/tag-push-create.json", name, ref=ref,
                     commit=forge_source.tag_object, edit=checkout_commit)
    client = app.test_client()

    response = hook.post(client)

    assert response.status_code == 202, response.get_json()
    assert len(response.get_json()["builds"]) == 1, response.get_json()
    (queued,) = response.get_json()["builds"]
    assert queued["ref"] == ref
    build = wait_for_build(client, queued["id"])
    assert build["status"] == "success", build["error"]
    reference = f"{image}:{ANNOTATED_TAG}"
    assert build["digest"] == registry_digest(reference)
    assert read_file_from_registry_image(docker_client, reference,
                                         "/src/marker.txt") == forge_source.marker
