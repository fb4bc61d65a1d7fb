"""A changed rules file is picked up without a restart; an invalid one keeps the old rules."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from core.errors import RulesError
from service.rules_state import read_rules_file
from tests.conftest import WebhookSender, repo_yaml
from tests.service.test_pages import login
from tests.service.test_rules_features import push
from tests.waiting import wait_until


def rewrite(path: Path, text: str) -> None:
    """Write the rules file with a newer modification time."""
    path.write_text(text)
    later = time.time() + 5
    os.utime(path, (later, later))


def test_changed_rules_are_picked_up_and_invalid_ones_keep_the_old(
    app_factory: Callable[..., Flask]
) -> None:
    app = app_factory("repositories:\n" + repo_yaml("Codertocat/Hello-World"))
    client = app.test_client()
    sender = WebhookSender(client)
    rules_path = Path(app.config["RULES_PATH"])
    assert sender.github(push("refs/heads/develop")).get_json()["builds"] == []

    develop = "      - source_type: branch\n        source: develop\n        tag: edge\n"
    rewrite(rules_path, "repositories:\n" + repo_yaml("Codertocat/Hello-World", rules=develop))
    wait_until(lambda: len(sender.github(push("refs/heads/develop")).get_json()["builds"]) == 1,
               5, "the new develop rule building a push")

    rewrite(rules_path, "repositories:\n  - name: broken\n    provider: nowhere\n")
    wait_until(lambda: app.extensions["rules"].error is not None, 5,
               "the invalid rules file being noticed")
    assert "repositories[0].provider" in app.extensions["rules"].error
    page = client.get("/").get_data(as_text=True)
    assert "previous rules are still in force" in page
    assert "repositories[0].provider" not in page, "details are for logged-in users only"
    login(client)
    assert "repositories[0].provider" in client.get("/").get_data(as_text=True)
    answer = sender.github(push("refs/heads/develop", before="0" * 40)).get_json()
    assert answer["builds"] == [] and "is already queued as build" in answer["ignored"]


def test_read_rules_file_reads_the_file_and_names_an_unreadable_one(tmp_path: Path) -> None:
    path = tmp_path / "build_rules.yaml"
    path.write_text("repositories:\n" + repo_yaml(), encoding="utf-8")
    assert read_rules_file(str(path), environ={}).repositories[0].name == "acme/webapp"
    with pytest.raises(RulesError) as info:
        read_rules_file(str(tmp_path / "missing.yaml"), environ={})
    assert info.value.errors == [f"{tmp_path / 'missing.yaml'}: cannot read the rules file: "
                                 f"[Errno 2] No such file or directory: "
                                 f"'{tmp_path / 'missing.yaml'}'"]


def test_a_file_swapped_in_with_its_old_modification_time_is_picked_up(
        app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    """Configuration management renames a new file into place, keeping the source's mtime."""
    app = app_factory("repositories:\n" + repo_yaml("Codertocat/Hello-World"))
    rules_path = Path(app.config["RULES_PATH"])
    before = os.stat(rules_path)
    staged = tmp_path / "rules.yaml.new"
    staged.write_text("repositories:\n" + repo_yaml("Codertocat/Hello-World")
                      + repo_yaml("acme/other"))
    os.utime(staged, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(staged, rules_path)
    assert os.stat(rules_path).st_mtime_ns == before.st_mtime_ns

    holder = app.extensions["rules"]
    wait_until(lambda: holder.rules.by_name("acme/other") is not None, 5,
               "the swapped-in rules file being loaded")
    assert holder.error is None
