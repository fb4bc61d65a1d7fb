"""A successful build records its base images with the digests it used: BuildKit's resolved
digest from its log, else the engine's (with the repository's pull_auth), never a secret."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import docker.errors
import pytest

from core.config import Settings
from core.credentials import PullAuth, SecretRef
from core.status import BuildStatus
from records.builds import BuildStore
from records.db import make_engine
from records.migrate import prepare
from tests.fakes import FakeImages, FakeTools, fake_digest
from tests.workers.test_pipeline import Run
from workers.base_digests import ResolvedBases, local_or_registry_digest

RESOLVED = "sha256:" + "a" * 64
DOCKERFILE = """\
ARG BASE=127.0.0.1:5000/base/busybox
ARG TOKEN=public-default
FROM ${BASE}:1 AS build
RUN make
FROM build AS test
FROM scratch
FROM busybox
FROM private.example.com/${TOKEN}/image
COPY --from=build /out /out
"""


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    """execute_build with fakes on a fresh SQLite store (tests/workers/test_pipeline.py)."""
    engine = make_engine(f"sqlite:///{tmp_path}/bases.db")
    prepare(engine, mode="auto")
    yield Run(BuildStore(engine), Settings(var_dir=str(tmp_path / "var"), database_url="",
                                           redis_url="", rules_path="", api_token="",
                                           secret_key="", build_network="none"))
    engine.dispose()


def tools(output: str = "", **images: object) -> FakeTools:
    made = FakeTools(files={"Dockerfile": DOCKERFILE}, builder={"output": output})
    for name, value in images.items():
        setattr(made.images_fake, name, value)
    return made


def test_bases_are_the_from_images_with_buildkits_resolved_digests_else_the_engines(
        run: Run) -> None:
    made = tools("#3 [internal] load metadata for 127.0.0.1:5000/base/busybox:1\n"
                 f"#4 [build 1/2] FROM 127.0.0.1:5000/base/busybox:1@{RESOLVED}\n"
                 "#4 resolve 127.0.0.1:5000/base/busybox:1 0.0s done\n")
    build = run(made)
    assert build.status is BuildStatus.SUCCESS
    private = "private.example.com/public-default/image"
    assert build.bases == (("127.0.0.1:5000/base/busybox:1", RESOLVED),
                           ("busybox", fake_digest("base:busybox")),
                           (private, fake_digest(f"base:{private}")))
    assert [reference for reference, _ in made.images_fake.base_lookups] == [
        "busybox", private]  # the resolved one is not asked for
    assert build.to_dict()["bases"][:2] == [
        {"reference": "127.0.0.1:5000/base/busybox:1", "digest": RESOLVED},
        {"reference": "busybox", "digest": fake_digest("base:busybox")}]
    log = run.log(build)
    assert f"Base image 127.0.0.1:5000/base/busybox:1: {RESOLVED}" in log
    assert log.index("Base image busybox") < log.index("Build succeeded")


def test_build_arguments_choose_the_base_and_secret_ones_are_never_recorded(run: Run) -> None:
    made = tools(base_digests={"mirror.example.com/busybox:1": None})
    build = run(made, build_args=(("BASE", "mirror.example.com/busybox"),),
                secret_build_args=(("TOKEN", SecretRef(env="IT_TOKEN")),),
                environ={"IT_TOKEN": "tok-3f9a7c"})
    assert build.bases == (("mirror.example.com/busybox:1", None),
                           ("busybox", fake_digest("base:busybox")))
    assert "tok-3f9a7c" not in str(build.to_dict())
    assert ("Base image mirror.example.com/busybox:1: only on this engine (no registry digest)"
            in run.log(build))


def test_a_base_on_a_pull_auth_registry_is_looked_up_with_that_login(run: Run) -> None:
    made = FakeTools(files={"Dockerfile": "FROM registry.example.com/team/base:2\n"})
    login = PullAuth("registry.example.com", "puller", SecretRef(env="PULL_PW"))
    build = run(made, pull_auth=(login,), environ={"PULL_PW": "pull-pa55"})
    assert build.status is BuildStatus.SUCCESS
    assert made.images_fake.base_lookups == [
        ("registry.example.com/team/base:2", {"username": "puller", "password": "pull-pa55"})]


class BrokenLookups(FakeImages):
    def base_digest(self, reference: str, *, auth_config: Mapping[str, str] | None = None
                    ) -> str | None:
        raise RuntimeError("the engine went away")


def test_bases_that_cannot_be_recorded_never_fail_the_build(run: Run) -> None:
    made = FakeTools(files={"Dockerfile": "FROM busybox\n"})
    made.images_fake = BrokenLookups(made.events)
    build = run(made)
    assert build.status is BuildStatus.SUCCESS and build.bases == ()
    assert "Could not record the base images: RuntimeError" in run.log(build)


def test_a_failed_build_records_no_bases(run: Run) -> None:
    made = FakeTools(files={"Dockerfile": "FROM busybox\n"}, builder={"error": "exit code: 1"})
    build = run(made)
    assert build.status is BuildStatus.FAILED and build.bases == ()


@pytest.mark.parametrize("pieces", [
    [f"#4 [1/2] FROM docker.io/library/busybox:latest@{RESOLVED}\n"],
    ["#4 [1/2] FROM docker.io/library/bu", f"sybox:latest@{RESOLVED}", "\n#5 DONE\n"],
    [f"#4 [1/2] FROM docker.io/library/busybox:latest@{RESOLVED}\r\n"],
], ids=["one-write", "split-across-writes", "crlf"])
def test_resolved_digests_are_read_off_the_log_as_it_passes(pieces: list[str]) -> None:
    seen: list[str] = []
    tap = ResolvedBases(seen.append)
    for piece in pieces:
        tap(piece)
    assert "".join(seen) == "".join(pieces)
    assert tap.found() == (("docker.io/library/busybox:latest", RESOLVED),)


def test_other_lines_naming_from_are_not_taken_for_bases() -> None:
    tap = ResolvedBases(lambda _: None)
    tap("#6 [2/2] RUN echo FROM x@" + RESOLVED + "\n")
    tap("#7 0.2 FROM busybox@" + RESOLVED + "\n")
    assert tap.found() == ()


class EngineStub:
    """docker-py's two calls the digest lookup makes: local images, the registry's answer."""

    def __init__(self, local: dict[str, list[str]], registry: dict[str, str]) -> None:
        self.local = local
        self.registry = registry
        self.asked: list[tuple[str, object]] = []

    def inspect_image(self, reference: str) -> dict[str, object]:
        if reference not in self.local:
            raise docker.errors.ImageNotFound(reference)
        return {"Id": "sha256:" + "0" * 64, "RepoDigests": self.local[reference]}

    def inspect_distribution(self, reference: str, auth_config: object = None
                             ) -> dict[str, object]:
        self.asked.append((reference, auth_config))
        if reference not in self.registry:
            raise docker.errors.APIError("manifest unknown")
        return {"Descriptor": {"digest": self.registry[reference]}}


D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64


@pytest.mark.parametrize(("reference", "local", "registry", "digest"), [
    ("busybox", {"busybox": [f"busybox@{D1}", f"127.0.0.1:5000/x@{D2}"]}, {}, D1),
    ("127.0.0.1:5000/x", {"127.0.0.1:5000/x": [f"busybox@{D1}", f"127.0.0.1:5000/x@{D2}"]}, {},
     D2),
    ("127.0.0.1:5000/x", {"127.0.0.1:5000/x": [f"127.0.0.1:5000/x@{D1}",
                                              f"127.0.0.1:5000/x@{D2}"]},
     {"127.0.0.1:5000/x": D2}, D2),
    ("127.0.0.1:5000/x", {}, {"127.0.0.1:5000/x": D2}, D2),
    ("local/busybox:latest", {"local/busybox:latest": []}, {}, None),
    ("127.0.0.1:5000/gone", {}, {}, None),
    (f"busybox@{D1}", {}, {}, D1),
], ids=["repo-digest-of-its-repository", "not-another-repositorys", "several-asks-the-registry",
        "not-local-asks-the-registry", "local-only", "nowhere", "pinned"])
def test_the_engines_digest_of_a_base(reference: str, local: dict[str, list[str]],
                                      registry: dict[str, str], digest: str | None) -> None:
    engine = EngineStub(local, registry)
    assert local_or_registry_digest(engine, reference, {"username": "u", "password": "p"}) \
        == digest
    assert all(auth == {"username": "u", "password": "p"} for _, auth in engine.asked)
