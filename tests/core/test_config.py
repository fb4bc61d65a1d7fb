"""Settings from the environment: the builder and build network a worker uses, and how long
`autobuild gc` keeps build logs."""

from __future__ import annotations

import pytest

from core.config import ConfigError, settings_from_env


def test_buildkit_and_the_engines_network_are_the_defaults() -> None:
    settings = settings_from_env({}, base_dir="/srv/autobuild")
    assert (settings.builder, settings.build_network) == ("buildkit", "default")


@pytest.mark.parametrize(("builder", "network"), [
    pytest.param("classic", "none", id="classic-none"),
    pytest.param("buildkit", "host", id="buildkit-host"),
])
def test_builder_and_network_are_read(builder: str, network: str) -> None:
    settings = settings_from_env({"AUTOBUILD_BUILDER": builder,
                                  "AUTOBUILD_BUILD_NETWORK": f" {network} "}, base_dir="/srv")
    assert (settings.builder, settings.build_network) == (builder, network)


@pytest.mark.parametrize(("name", "value", "message"), [
    pytest.param("AUTOBUILD_BUILDER", "kaniko", "AUTOBUILD_BUILDER: unknown builder 'kaniko' "
                 "(known: buildkit, classic)", id="builder"),
    pytest.param("AUTOBUILD_BUILD_NETWORK", "bridge", "AUTOBUILD_BUILD_NETWORK must be one of "
                 "default, none, host, not 'bridge'", id="network"),
    pytest.param("AUTOBUILD_RETENTION_DAYS", "-3", "AUTOBUILD_RETENTION_DAYS must be a whole "
                 "number of days (0 keeps forever), got '-3'", id="retention-negative"),
    pytest.param("AUTOBUILD_RETENTION_DAYS", "2w", "AUTOBUILD_RETENTION_DAYS must be a whole "
                 "number of days (0 keeps forever), got '2w'", id="retention-unit"),
])
def test_unknown_values_are_refused_by_name(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_env({name: value}, base_dir="/srv")
    assert str(caught.value) == message


def test_the_registry_token_and_the_scheduler_interval_are_read() -> None:
    unset = settings_from_env({}, base_dir="/srv")
    assert (unset.registry_token, unset.scheduler_interval) == ("", 15)
    given = settings_from_env({"AUTOBUILD_REGISTRY_TOKEN": " tok-en-123 ",
                               "AUTOBUILD_SCHEDULER_INTERVAL": "2"}, base_dir="/srv")
    assert (given.registry_token, given.scheduler_interval) == ("tok-en-123", 2)
    with pytest.raises(ConfigError) as caught:
        settings_from_env({"AUTOBUILD_SCHEDULER_INTERVAL": "0"}, base_dir="/srv")
    assert str(caught.value) == "AUTOBUILD_SCHEDULER_INTERVAL must be positive, got 0"
@pytest.mark.parametrize(("value", "days"), [("", 90), ("30", 30), ("0", 0)])
def test_build_logs_are_kept_90_days_unless_told(value: str, days: int) -> None:
    settings = settings_from_env({"AUTOBUILD_RETENTION_DAYS": value}, base_dir="/srv")
    assert settings.retention_days == days
