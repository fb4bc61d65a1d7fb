"""Memory and CPU limits: their spelling in rules and settings, and how they reach a plan."""

from __future__ import annotations

import pytest

from core.build_limits import BuildLimits, parse_cpus, parse_memory
from core.config import ConfigError, settings_from_env
from core.matching import match
from core.plan import BuildPlan
from core.rules_load import load_rules
from tests.core.test_rules import ENV, push, rules_yaml
from tests.core.test_rules_build import RULE, load_error, rule_of


@pytest.mark.parametrize(("text", "size"), [
    ("6m", 6 << 20), ("512M", 512 << 20), ("2g", 2 << 30), ("1073741824", 1 << 30),
    ("8192k", 8 << 20), (" 7340032b ", 7340032),
])
def test_memory_sizes_read_as_docker_writes_them(text: str, size: int) -> None:
    assert parse_memory(text) == size


@pytest.mark.parametrize(("text", "problem"), [
    ("1k", "'1k' is below the engine's minimum of 6m"),
    ("2 GB", "'2 GB' is not a memory size (e.g. 512m or 2g: a whole number of bytes, or with "
             "b, k, m or g)"),
    ("-5m", "'-5m' is not a memory size"),
    ("9999999999g", "'9999999999g' is more than any machine has"),
])
def test_bad_memory_sizes_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_memory(text)
    assert str(caught.value).startswith(problem)


@pytest.mark.parametrize(("text", "millis"), [("1", 1000), ("1.5", 1500), ("0.25", 250),
                                              ("0.01", 10), ("16", 16000)])
def test_cpus_are_kept_in_thousandths(text: str, millis: int) -> None:
    assert parse_cpus(text) == millis


@pytest.mark.parametrize("text", ["0", "0.001", "1.2345", "two", "-1", "2000"])
def test_bad_cpu_counts_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_cpus(text)


def test_a_rules_limits_reach_its_plan_and_survive_the_database() -> None:
    body = "- {source_type: branch, source: main, memory: 512m, cpus: 1.5}\n"
    assert rule_of(body).limits == BuildLimits(memory=512 << 20, millicpus=1500)
    repo = load_rules(rules_yaml(body), environ=ENV).repositories[0]
    (plan,) = match(repo, push("refs/heads/main")).plans
    assert BuildPlan.from_dict(plan.to_dict()).limits == BuildLimits(memory=512 << 20,
                                                                     millicpus=1500)
    assert BuildPlan.from_dict({k: v for k, v in plan.to_dict().items()
                                if k not in ("memory_limit", "cpu_limit")}).limits == BuildLimits()


def test_the_workers_defaults_fill_what_a_rule_does_not_limit() -> None:
    defaults = BuildLimits(memory=2 << 30, millicpus=2000)
    assert BuildLimits(millicpus=500).over(defaults) == BuildLimits(memory=2 << 30, millicpus=500)
    assert BuildLimits().over(BuildLimits()).describe() == "none"
    assert BuildLimits(memory=3 << 20 | 1).describe() == "memory 3145729 bytes"


@pytest.mark.parametrize(("body", "fragment"), [
    ("- {source_type: branch, source: main, memory: 1k}\n", f"{RULE}.memory: '1k' is below"),
    ("- {source_type: branch, source: main, cpus: 0}\n", f"{RULE}.cpus: '0' must be at least"),
    ("- {source_type: branch, source: main, cpus: [1]}\n", f"{RULE}.cpus: expected a string"),
])
def test_bad_limits_in_rules_are_load_errors_naming_the_field(body: str, fragment: str) -> None:
    (error,) = load_error(body)
    assert fragment in error and error.startswith("rules.yaml:")


def test_worker_defaults_come_from_the_environment() -> None:
    settings = settings_from_env({"AUTOBUILD_BUILD_MEMORY": "1g", "AUTOBUILD_BUILD_CPUS": "2",
                                  "AUTOBUILD_BUILDKIT_CGROUP": "/system.slice/buildkit/"},
                                 base_dir="/srv")
    assert settings.build_limits == BuildLimits(memory=1 << 30, millicpus=2000)
    assert settings.buildkit_cgroup == "system.slice/buildkit"
    with pytest.raises(ConfigError) as caught:
        settings_from_env({"AUTOBUILD_BUILD_CPUS": "lots"}, base_dir="/srv")
    assert str(caught.value) == ("AUTOBUILD_BUILD_CPUS: 'lots' is not a number of CPUs "
                                 "(e.g. 1 or 1.5)")
    with pytest.raises(ConfigError):
        settings_from_env({"AUTOBUILD_BUILDKIT_CGROUP": "docker/../etc"}, base_dir="/srv")
