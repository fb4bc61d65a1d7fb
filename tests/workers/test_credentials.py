"""A build's secrets come from the plan's references and the worker's environment, never the
rules file, and a missing one fails the build naming it, not its value."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.credentials import GitAuth, PullAuth, RegistryAuth, SecretRef
from core.plan import BuildPlan
from tests.factories import make_plan
from vcs.gitcmd import origin_of
from workers.credentials import CredentialError, resolve_credentials

ENVIRON = {"REG_PW": "registry-pass-1", "GIT_TOKEN": "git-token-22", "NPM": "npm-token-333"}


def plan_with_secrets(tmp_path: Path) -> BuildPlan:
    key = tmp_path / "npmrc"
    key.write_text("file-secret-4444\n")
    return make_plan(
        registry_auth=RegistryAuth("bot", SecretRef(env="REG_PW")),
        git_auth=GitAuth("x-access-token", SecretRef(env="GIT_TOKEN")),
        build_args=(("MODE", "fast"), ("API_KEY", "plain-but-looks-secret")),
        secret_build_args=(("NPM_TOKEN", SecretRef(env="NPM")),
                           ("NPMRC", SecretRef(file=str(key)))),
    )


def test_every_reference_is_resolved_from_the_worker_environment(tmp_path: Path) -> None:
    secrets = resolve_credentials(plan_with_secrets(tmp_path), ENVIRON)
    assert secrets.auth_config == {"username": "bot", "password": "registry-pass-1"}
    assert secrets.build_args == {"NPM_TOKEN": "npm-token-333", "NPMRC": "file-secret-4444"}
    assert secrets.git_env["GIT_CONFIG_KEY_0"] == "http.https://github.com/.extraHeader"
    header = secrets.git_env["GIT_CONFIG_VALUE_0"].rpartition(" ")[2]
    assert set(secrets.masked) == {"registry-pass-1", "git-token-22", header, "npm-token-333",
                                   "file-secret-4444", "plain-but-looks-secret"}
    assert "registry-pass-1" not in repr(secrets) and "npm-token-333" not in repr(secrets)


@pytest.mark.parametrize(("missing", "named"), [
    pytest.param("REG_PW", "registry_auth.password: environment variable REG_PW is not set",
                 id="registry"),
    pytest.param("GIT_TOKEN", "git_auth.token: environment variable GIT_TOKEN is not set",
                 id="git"),
    pytest.param("NPM", "secret build argument NPM_TOKEN: environment variable NPM is not set",
                 id="build-arg"),
])
def test_a_missing_secret_fails_naming_it_and_never_a_value(
        tmp_path: Path, missing: str, named: str) -> None:
    environ = {k: v for k, v in ENVIRON.items() if k != missing}
    with pytest.raises(CredentialError) as caught:
        resolve_credentials(plan_with_secrets(tmp_path), environ)
    assert caught.value.user_message == named
    assert not any(value in caught.value.user_message for value in ENVIRON.values())


def test_an_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    plan = make_plan(secret_build_args=(("NPMRC", SecretRef(file=str(tmp_path / "gone"))),))
    with pytest.raises(CredentialError) as caught:
        resolve_credentials(plan, {})
    assert caught.value.user_message == (f"secret build argument NPMRC: cannot read "
                                         f"{tmp_path / 'gone'}: No such file or directory")


def test_a_too_short_value_is_refused_at_build_time() -> None:
    plan = make_plan(secret_build_args=(("PIN", SecretRef(env="PIN")),))
    with pytest.raises(CredentialError) as caught:
        resolve_credentials(plan, {"PIN": "12"})
    assert caught.value.user_message == ("secret build argument PIN: the value of ${PIN} is "
                                         "shorter than 3 characters")


def test_plans_round_trip_their_references_without_values(tmp_path: Path) -> None:
    plan = plan_with_secrets(tmp_path)
    data = plan.to_dict()
    assert BuildPlan.from_dict(data) == plan
    assert data["registry_auth"] == {"username": "bot", "password": {"env": "REG_PW"}}
    assert "registry-pass-1" not in str(data) and "file-secret-4444" not in str(data)


def test_plans_of_the_previous_release_still_load() -> None:
    old = make_plan(build_args=(("NPM_TOKEN", "abc123"),)).to_dict()
    old["secret_build_args"] = ["NPM_TOKEN"]  # names, with values in build_args
    del old["registry_auth"], old["git_auth"]
    plan = BuildPlan.from_dict(old)
    assert plan.secret_build_args == () and plan.build_args == (("NPM_TOKEN", "abc123"),)
    assert "abc123" in resolve_credentials(plan, {}).masked  # masked by its name


def test_build_environment_and_pull_credentials_are_resolved_and_masked() -> None:
    plan = make_plan(env=(("STAGE", "prod"), ("SENTRY_KEY", "plain-looking-secret")),
                     secret_env=(("NPM_TOKEN", SecretRef(env="NPM")),),
                     pull_auth=(PullAuth("127.0.0.1:5001", "puller", SecretRef(env="REG_PW")),))
    secrets = resolve_credentials(plan, ENVIRON)
    assert secrets.hook_env == {"STAGE": "prod", "SENTRY_KEY": "plain-looking-secret",
                                "NPM_TOKEN": "npm-token-333"}
    assert secrets.pull_auths == {"127.0.0.1:5001": ("puller", "registry-pass-1")}
    assert set(secrets.masked) == {"npm-token-333", "plain-looking-secret", "registry-pass-1"}
    assert "npm-token-333" not in repr(secrets) and "registry-pass-1" not in repr(secrets)


@pytest.mark.parametrize(("plan", "named"), [
    pytest.param(make_plan(secret_env=(("NPM_TOKEN", SecretRef(env="UNSET_NPM")),)),
                 "secret_env NPM_TOKEN: environment variable UNSET_NPM is not set", id="env"),
    pytest.param(make_plan(pull_auth=(PullAuth("docker.io", "me", SecretRef(env="NO_PW")),)),
                 "pull_auth docker.io password: environment variable NO_PW is not set",
                 id="pull-auth"),
])
def test_a_missing_build_secret_is_named(plan: BuildPlan, named: str) -> None:
    with pytest.raises(CredentialError) as raised:
        resolve_credentials(plan, ENVIRON)
    assert raised.value.user_message == named


@pytest.mark.parametrize(("url", "origin"), [
    ("https://github.com/acme/app.git", "https://github.com/"),
    ("http://127.0.0.1:8123/repo.git", "http://127.0.0.1:8123/"),
    ("https://bot@git.example.com:8443/a/b.git", "https://git.example.com:8443/"),
    ("https://[::1]:3000/x.git", "https://[::1]:3000/"),
    ("ssh://git@github.com/acme/app.git", None),
    ("git@github.com:acme/app.git", None),
    ("file:///srv/git/app.git", None),
])
def test_the_token_header_is_scoped_to_the_clone_urls_origin(url: str, origin: str | None
                                                             ) -> None:
    assert origin_of(url) == origin
