"""The `status:` and `notify:` keys: what loads, what each forge gets, and every load error
naming file, line and field."""

from __future__ import annotations

import textwrap

import pytest

from core.credentials import SecretRef
from core.errors import RulesError
from core.matching import explain_ref
from core.notify.rules import MAX_NOTIFY_TARGETS
from core.notify.targets import StatusTarget, WebhookTarget
from core.plan import BuildPlan
from core.rules import RepositoryConfig
from core.rules_load import load_rules

ENV = {"TOKEN": "tok-123456", "HOOK_SECRET": "hook-secret-1", "SLACK_URL": "https://hooks.x/T/B/K"}


def repo_yaml(provider: str, extra: str, *, rules: str | None = None) -> str:
    """A one-repository rules file with `extra` (YAML at repository level) added."""
    rules = rules or ("    rules:\n      - source_type: branch\n        source: main\n"
                      "        tag: latest\n")
    return ("repositories:\n  - name: acme/webapp\n    provider: " + provider +
            "\n    clone_url: https://example.com/acme/webapp.git\n    secret: s3cret\n"
            "    image: 127.0.0.1:5000/acme/webapp\n" + textwrap.indent(
                textwrap.dedent(extra), "    ") + rules)


def load(provider: str, extra: str, **kwargs: str) -> RepositoryConfig:
    return load_rules(repo_yaml(provider, extra, **kwargs), environ=ENV,
                      filename="rules.yaml").repositories[0]


def errors(provider: str, extra: str) -> list[str]:
    with pytest.raises(RulesError) as caught:
        load(provider, extra)
    return caught.value.errors


TOKEN_ONLY = "status:\n  token: ${TOKEN}\n"


@pytest.mark.parametrize(("provider", "extra", "forge", "api_url"), [
    pytest.param("github", TOKEN_ONLY, "github", "https://api.github.com", id="github"),
    pytest.param("gitlab", TOKEN_ONLY, "gitlab", "https://gitlab.com/api/v4", id="gitlab"),
    pytest.param("gitea", TOKEN_ONLY + "  api_url: https://git.example.com/api/v1/\n", "gitea",
                 "https://git.example.com/api/v1", id="gitea-needs-api-url"),
    pytest.param("bitbucket", TOKEN_ONLY, "bitbucket-cloud", "https://api.bitbucket.org",
                 id="bitbucket-without-api-url-is-cloud"),
    pytest.param("bitbucket", TOKEN_ONLY + "  api_url: https://api.bitbucket.org\n",
                 "bitbucket-cloud", "https://api.bitbucket.org", id="bitbucket-cloud-explicit"),
    pytest.param("bitbucket", TOKEN_ONLY + "  api_url: https://bitbucket.example.com\n",
                 "bitbucket-server", "https://bitbucket.example.com",
                 id="bitbucket-other-api-url-is-server"),
    pytest.param("bitbucket", TOKEN_ONLY + "  api_url: http://127.0.0.1:7990\n"
                 "  bitbucket: cloud\n", "bitbucket-cloud", "http://127.0.0.1:7990",
                 id="bitbucket-edition-says-cloud"),
    pytest.param("bitbucket", TOKEN_ONLY + "  bitbucket: server\n  api_url: https://bb.lan/\n",
                 "bitbucket-server", "https://bb.lan", id="bitbucket-edition-says-server"),
    pytest.param("github", TOKEN_ONLY + "  api_url: https://ghe.example.com/api/v3\n", "github",
                 "https://ghe.example.com/api/v3", id="github-enterprise"),
    pytest.param("gitlab", TOKEN_ONLY + "  api_url: http://127.0.0.1:8080/api/v4\n", "gitlab",
                 "http://127.0.0.1:8080/api/v4", id="http-to-loopback"),
    pytest.param("gitlab", TOKEN_ONLY + "  api_url: http://gitlab.lan/api/v4\n  insecure: true\n",
                 "gitlab", "http://gitlab.lan/api/v4", id="http-with-insecure"),
])
def test_status_target_per_forge(provider: str, extra: str, forge: str, api_url: str) -> None:
    repo = load(provider, extra)

    assert repo.status == StatusTarget(forge=forge, api_url=api_url,
                                       token=SecretRef(env="TOKEN"))


def test_bitbucket_app_password_keeps_the_username() -> None:
    repo = load("bitbucket", TOKEN_ONLY + "  username: builder\n")

    assert repo.status is not None and repo.status.username == "builder"


def test_plans_carry_targets_with_one_stable_context_per_rule() -> None:
    rules = ("    rules:\n      - source_type: branch\n        source: main\n"
             "        tag: latest\n      - source_type: tag\n        source: /^v/\n"
             "        tag: '{sourceref}'\n      - source_type: branch\n        source: /^rel/\n"
             "        tag: '{sourceref}'\n")
    notify = "notify:\n  - url: https://deploy.example.com/hook\n"
    repo = load("github", TOKEN_ONLY + notify, rules=rules)

    def plan(ref: str) -> BuildPlan:
        (found,) = explain_ref(repo, ref).plans
        return found

    contexts = [plan(ref).status.context for ref in  # type: ignore[union-attr]
                ("refs/heads/main", "refs/tags/v1", "refs/heads/release")]
    assert contexts == ["autobuild/latest", "autobuild/{sourceref} (rule 2)",
                        "autobuild/{sourceref} (rule 3)"]
    assert plan("refs/heads/main").notify == repo.notify
    assert BuildPlan.from_dict(plan("refs/tags/v1").to_dict()) == plan("refs/tags/v1")


def test_notify_targets_load_with_defaults_and_references() -> None:
    extra = """\
        notify:
          - url: https://deploy.example.com/hooks/image
            secret: ${HOOK_SECRET}
          - url: ${SLACK_URL}
            format: slack
            events: [success, failed, cancelled, timed_out]
          - url: {file: /etc/autobuild/hook-url}
    """
    repo = load("github", extra)

    assert repo.notify == (
        WebhookTarget(url="https://deploy.example.com/hooks/image",
                      secret=SecretRef(env="HOOK_SECRET")),
        WebhookTarget(url_ref=SecretRef(env="SLACK_URL"), format="slack",
                      events=("success", "failed", "cancelled", "timed_out")),
        WebhookTarget(url_ref=SecretRef(file="/etc/autobuild/hook-url")),
    )
    assert [t.describe() for t in repo.notify] == [
        "https://deploy.example.com/hooks/image", "${SLACK_URL}", "file /etc/autobuild/hook-url"]
    assert [t.kind for t in repo.notify] == ["webhook", "chat", "webhook"]


ERRORS = [
    pytest.param("gitea", TOKEN_ONLY, "rules.yaml:8: repositories[0].status.api_url: is required "
                 "for gitea", id="gitea-without-api-url"),
    pytest.param("github", "status:\n  token: tok-literal\n", "rules.yaml:8: repositories[0]."
                 "status.token: write this secret as ${VARIABLE}", id="literal-token"),
    pytest.param("github", "status:\n  api_url: https://x.example.com\n",
                 "rules.yaml:8: repositories[0].status.token: is required", id="no-token"),
    pytest.param("github", TOKEN_ONLY + "  username: bob\n", "rules.yaml:9: repositories[0]."
                 "status.username: is only for Bitbucket app passwords", id="username-on-github"),
    pytest.param("github", TOKEN_ONLY + "  api_url: http://ghe.example.com\n",
                 "rules.yaml:9: repositories[0].status.api_url: 'http://ghe.example.com' uses "
                 "plain http", id="plain-http"),
    pytest.param("github", TOKEN_ONLY + "  api_url: https://u:p@ghe.example.com\n",
                 "status.api_url: 'https://u:p@ghe.example.com' must not contain credentials",
                 id="credentials-in-api-url"),
    pytest.param("github", TOKEN_ONLY + "  bitbucket: cloud\n", "rules.yaml:9: repositories[0]."
                 "status.bitbucket: is cloud or server, and only for provider bitbucket",
                 id="edition-on-github"),
    pytest.param("bitbucket", TOKEN_ONLY + "  bitbucket: datacenter\n",
                 "status.bitbucket: is cloud or server", id="unknown-edition"),
    pytest.param("github", TOKEN_ONLY + "  colour: red\n", "rules.yaml:9: repositories[0].status: "
                 "unknown key 'colour'", id="unknown-status-key"),
    pytest.param("github", "notify:\n  - secret: ${HOOK_SECRET}\n",
                 "rules.yaml:8: repositories[0].notify[0].url: is required", id="no-url"),
    pytest.param("github", "notify:\n  - url: https://x.example.com/h?token=abc\n",
                 "rules.yaml:8: repositories[0].notify[0].url: 'https://x.example.com/h?token=abc'"
                 " must not have a query string", id="query-string"),
    pytest.param("github", "notify:\n  - url: https://x.example.com/${HOOK_SECRET}\n",
                 "notify[0].url: write the whole URL as ${VARIABLE}, not a part of it",
                 id="reference-inside-a-url"),
    pytest.param("github", "notify:\n  - url: https://hooks.slack.com/services/T/B/K\n"
                 "    format: slack\n", "notify[0].url: a chat webhook URL is itself a credential",
                 id="literal-chat-url"),
    pytest.param("github", "notify:\n  - url: https://x.example.com/h\n    format: xml\n",
                 "rules.yaml:9: repositories[0].notify[0].format: unknown format 'xml'",
                 id="unknown-format"),
    pytest.param("github", "notify:\n  - url: https://x.example.com/h\n    events: [pushed]\n",
                 "rules.yaml:9: repositories[0].notify[0].events: unknown event 'pushed'",
                 id="unknown-event"),
    pytest.param("github", "notify:\n  - url: https://x.example.com/h\n    secret: plain\n",
                 "notify[0].secret: write this secret as ${VARIABLE}", id="literal-secret"),
    pytest.param("github", "notify:\n" + "  - url: https://x.example.com/h\n" * 11,
                 f"rules.yaml:8: repositories[0].notify: lists 11 targets; at most "
                 f"{MAX_NOTIFY_TARGETS}", id="too-many-targets"),
]


@pytest.mark.parametrize(("provider", "extra", "expected"), ERRORS)
def test_load_errors_name_file_line_and_field(provider: str, extra: str, expected: str) -> None:
    found = errors(provider, extra)

    assert any(expected in line for line in found), found
    assert not any(value in line for line in found for value in ENV.values())
