"""The base images a Dockerfile names, for pulling private ones with pull_auth."""

from __future__ import annotations

import pytest

from core.dockerfile import base_images


@pytest.mark.parametrize(("text", "args", "expected"), [
    pytest.param("FROM reg.example.com/base:1\nRUN true\n", {}, ["reg.example.com/base:1"],
                 id="one"),
    pytest.param("# syntax comment\nfrom --platform=$BUILDPLATFORM golang:1.22 AS build\n"
                 "FROM build AS test\nFROM scratch\nCOPY --from=build /x /x\n", {},
                 ["golang:1.22"], id="stages-scratch-platform-flag"),
    pytest.param("ARG BASE=127.0.0.1:5001/private/base\nARG TAG=\"1.0\"\n"
                 "FROM ${BASE}:$TAG\n", {}, ["127.0.0.1:5001/private/base:1.0"],
                 id="arg-defaults"),
    pytest.param("ARG TAG=1.0\nFROM base:${TAG}\n", {"TAG": "2.0"}, ["base:2.0"],
                 id="build-arg-overrides"),
    pytest.param("FROM ${UNKNOWN}/base\nFROM busybox\n", {}, ["busybox"], id="unresolved"),
    pytest.param("FROM \\\n  reg.example.com/a@sha256:" + "0" * 64 + " \\\n  AS a\n"
                 "FROM reg.example.com/a@sha256:" + "0" * 64 + "\n", {},
                 ["reg.example.com/a@sha256:" + "0" * 64], id="continuation-digest-once"),
    pytest.param("FROM a\nARG LATE=x\nFROM $LATE\n", {}, ["a"], id="arg-after-from-is-stage"),
])
def test_base_images(text: str, args: dict[str, str], expected: list[str]) -> None:
    assert base_images(text, args) == expected
