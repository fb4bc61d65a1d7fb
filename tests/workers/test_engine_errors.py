"""When the Docker engine's connection fails under docker-py: pushes retry it, builds name the
engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests.exceptions
import urllib3.exceptions

from core.errors import PushError
from records.builds import BuildStore
from records.db import make_engine
from records.migrate import prepare
from tests.factories import stored_build
from workers import jobs
from workers.images import DockerImages
from workers.publish import TRANSIENT, push_tags

ENGINE = "unix:///var/run/docker.sock"


class StallingApi:
    """docker-py's APIClient as a push that hangs: the stream times out after one line."""

    timeout = 7

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.pushes = 0

    def push(self, repository: str, **_: Any) -> Iterator[dict[str, str]]:
        self.pushes += 1
        yield {"status": f"The push refers to repository [{repository}]"}
        raise self.error


@pytest.mark.parametrize(("error", "expected"), [
    (urllib3.exceptions.ReadTimeoutError(None, "/v1.41/images/push", "Read timed out."),
     f"the Docker engine at {ENGINE} sent nothing for 7 s (read timed out; "
     "AUTOBUILD_ENGINE_TIMEOUT)"),
    (requests.exceptions.ConnectionError("Connection aborted."),
     f"the connection to the Docker engine at {ENGINE} failed: Connection aborted."),
    (urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead"),
     f"the connection to the Docker engine at {ENGINE} failed: Connection broken: "
     "IncompleteRead"),
])
def test_a_broken_engine_stream_is_a_push_error_that_is_retried(
        error: BaseException, expected: str) -> None:
    api = StallingApi(error)
    images = DockerImages(api, log=lambda _: None, docker_host=ENGINE)  # type: ignore[arg-type]
    logged: list[str] = []

    with pytest.raises(PushError) as failure:
        push_tags(images, ("127.0.0.1:5000/team/app:latest",), auth_config=None,
                  log=logged.append, delays=(0.0, 0.0))

    message = failure.value.user_message
    assert message == f"pushing 127.0.0.1:5000/team/app:latest failed: {expected}"
    assert TRANSIENT.search(message)
    assert api.pushes == 3
    assert sum("retrying in 0 s" in line for line in logged) == 2


def test_a_build_whose_engine_does_not_answer_at_start_fails_naming_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/jobs.db")
    prepare(engine, mode="auto")
    store = BuildStore(engine)
    build = stored_build(store)
    host = f"unix://{tmp_path}/no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    monkeypatch.setattr(jobs, "_store", lambda settings: store)

    assert jobs.run_build(build.id) == "failed"

    failed = BuildStore(make_engine(f"sqlite:///{tmp_path}/jobs.db")).get_build(build.id)
    assert failed is not None and failed.error == (
        f"the connection to the Docker engine at {host} failed: No such file or directory "
        "(the build did not start)")
