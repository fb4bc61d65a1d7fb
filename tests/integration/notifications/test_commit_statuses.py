"""Commit statuses end to end on the real stack, for all five forges: a real push fixture
through the real app, a build by a real worker process, and a real notifier process posting to
a local server that plays each forge's API. Asserted: the exact requests of each transition
(method, path, auth header, JSON body), in order, and the notifications the API lists."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.integration.conftest import RulesWriter, unique_image
from tests.integration.notifications.conftest import (
    NAMES,
    PUBLIC_URL,
    PUSHES,
    STATUS_KEYS,
    TOKEN,
    basic,
    push_and_build,
    repository,
    requests_to,
)
from tests.integration.notifications.fake_forge import FakeForge
from tests.waiting import wait_until

pytestmark = pytest.mark.both_databases


def expected_requests(flavour: str, build_id: str, commit: str, forge: FakeForge
                      ) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """(method, raw path, auth header, its value, JSON body) of queued, started, success."""
    prefix = STATUS_KEYS[flavour][0]
    url = f"{PUBLIC_URL}/builds/{build_id}"
    steps = [("queued", "pending", "INPROGRESS"), ("started", "pending", "INPROGRESS"),
             ("pushed latest", "success", "SUCCESSFUL")]
    found = []
    for description, state, bb_state in steps:
        if flavour in ("github", "gitea"):
            header = ("Authorization", f"Bearer {TOKEN}" if flavour == "github"
                      else f"token {TOKEN}")
            path = f"{prefix}/repos/{NAMES[flavour]}/statuses/{commit}"
            body: dict[str, Any] = {"state": state, "target_url": url, "description": description,
                                    "context": "autobuild/latest"}
        elif flavour == "gitlab":
            header = ("PRIVATE-TOKEN", TOKEN)
            path = f"{prefix}/projects/it-notify%2Fsub-group%2Fgl-app/statuses/{commit}"
            body = {"state": "running" if description == "started" else state,
                    "name": "autobuild/latest", "ref": "main", "description": description,
                    "target_url": url}
        elif flavour == "bitbucket-cloud":
            header = ("Authorization", basic("it-builder", TOKEN))
            path = f"{prefix}/2.0/repositories/{NAMES[flavour]}/commit/{commit}/statuses/build"
            body = {"key": "autobuild/latest", "state": bb_state, "name": "autobuild/latest",
                    "description": description, "refname": "main", "url": url}
        else:
            header = ("Authorization", f"Bearer {TOKEN}")
            path = f"{prefix}/rest/build-status/1.0/commits/{commit}"
            body = {"state": bb_state, "key": "autobuild/latest", "name": "autobuild/latest",
                    "url": url, "description": description}
        found.append(("POST", path, *header, body))
    return found


@pytest.mark.integration
@pytest.mark.parametrize("flavour", list(PUSHES))
def test_each_transition_sets_the_commit_status_on_each_forge(
    flavour: str, live_app: tuple[Flask, RulesWriter], notifier: subprocess.Popen[bytes],
    forge: FakeForge, source: tuple[Path, str],
) -> None:
    app, write_rules = live_app
    bare, commit = source
    write_rules("repositories:\n" + repository(flavour, f"file://{bare}",
                                               unique_image(f"nt-{flavour}"), forge))

    build = push_and_build(app, flavour, commit)

    assert build["status"] == "success", build["error"]
    prefix = STATUS_KEYS[flavour][0] + "/"
    seen = requests_to(forge, prefix, 3)
    expected = expected_requests(flavour, build["id"], commit, forge)
    assert [(s.method, s.path, header, s.header(header), s.json())
            for s, (_, _, header, _, _) in zip(seen, expected, strict=True)] == expected

    def recorded() -> dict[str, Any] | None:  # the forge may answer before the row is updated
        found = app.test_client().get(f"/api/builds/{build['id']}/notifications").get_json()
        return None if any(n["state"] == "sending" for n in found["notifications"]) else found

    listed = wait_until(recorded, 30, "every answer recorded")
    assert [(n["event"], n["state"], n["attempts"]) for n in listed["notifications"]] == [
        ("queued", "sent", 1), ("cloning", "sent", 1), ("success", "sent", 1)]
    assert {n["last_status"] for n in listed["notifications"]} == {
        204 if flavour == "bitbucket-server" else 201}
