"""Forge adapters against every payload in the corpus, plus malformed and edge-case bodies."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.envelope import Envelope
from core.errors import PayloadError
from core.events import ZERO_SHA, Ignored, ParseResult, Ping, PushEvent
from core.forges import FORGES, ForgeAdapter, bitbucket, get_forge, gitea, github, gitlab
from tests.core.fixtures import Fixture, fixture, manifest

ROWS = [pytest.param(row, id=row.file) for row in manifest()]
PUSH_KINDS = {
    "branch-push",
    "branch-create",
    "branch-delete",
    "force-push",
    "tag-push",
    "tag-delete",
    "multi-ref-push",
}
DELIVERY_HEADERS = {
    "github": "X-GitHub-Delivery",
    "gitea": "X-Gitea-Delivery",
    "gitlab": "X-Gitlab-Event-UUID",
    "bitbucket-cloud": "X-Request-UUID",
    "bitbucket-server": "X-Request-Id",
}
DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
FORM = "application/x-www-form-urlencoded"


def headers_for(row: Fixture, **extra: str) -> dict[str, str]:
    """The event header of `row`, a made-up delivery id and a JSON content type."""
    return {
        **row.event_headers,
        DELIVERY_HEADERS[row.provider]: DELIVERY,
        "Content-Type": "application/json",
        **extra,
    }


def one_push(result: ParseResult) -> PushEvent:
    """The only PushEvent of a parse result."""
    assert isinstance(result, list) and len(result) == 1, result
    return result[0]


def sha_or_none(value: str | None) -> str | None:
    """The manifest convention (40 zeros or null for a missing side) mapped to ours."""
    return None if value in (None, ZERO_SHA) else value


def expected_repository(row: Fixture) -> str | None:
    """The repository name each forge's payload gives, read straight from the JSON."""
    data = json.loads(row.body)
    if row.provider == "gitlab":
        return str(data["project"]["path_with_namespace"])
    repository = data.get("repository")
    if repository is None:
        return None
    if row.provider == "bitbucket-server":
        return f"{repository['project']['key']}/{repository['slug']}"
    return str(repository["full_name"])


def expected_changes(row: Fixture) -> list[dict[str, Any]]:
    """One dict per ref change the row describes (several for Bitbucket multi-change pushes)."""
    return list(row.entry.get("changes") or [row.entry])


def push_rows(*providers: str) -> list[Any]:
    """The push rows of `providers` as pytest params."""
    return [
        pytest.param(row, id=row.file)
        for row in manifest()
        if row.entry["kind"] in PUSH_KINDS and row.provider in providers
    ]


def parsed(forge: ForgeAdapter, headers: dict[str, str], body: bytes) -> ParseResult:
    """What `forge` makes of one delivery, read as the webhook view reads it."""
    return forge.parse(forge.envelope(headers, body))


def named(forge: ForgeAdapter, headers: dict[str, str], body: bytes) -> str | None:
    """The repository `forge` finds in one delivery."""
    return forge.repository_name(forge.envelope(headers, body))


def headers_only(forge: ForgeAdapter, headers: dict[str, str]) -> Envelope:
    """An envelope of `headers` with an empty JSON object as the body."""
    return forge.envelope(headers, b"{}")


def mutated(row: Fixture, **changes: Any) -> bytes:
    """The body of `row` with top-level keys replaced (a value of ... deletes the key)."""
    data = json.loads(row.body)
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data).encode("utf-8")


# --- every manifest row --------------------------------------------------------------------


@pytest.mark.parametrize("row", ROWS)
def test_parse_manifest_row(row: Fixture) -> None:
    forge = get_forge(row.forge)
    assert forge is not None
    headers = headers_for(row)
    result = parsed(forge, headers, row.body)
    kind = row.entry["kind"]
    repository = expected_repository(row)
    if kind == "ping":
        assert isinstance(result, Ping)
        assert result.repository == repository
    elif kind in PUSH_KINDS:
        assert isinstance(result, list)
        assert_push_events(row, result, repository)
    else:
        assert isinstance(result, Ignored), kind
        assert result.event == row.entry["event_header_value"]
        assert result.repository == repository
        if kind.startswith(("create-event", "delete-event")):
            assert "pushes drive builds" in result.reason
            assert result.refs == (row.entry["ref"],)


def assert_push_events(row: Fixture, events: list[PushEvent], repository: str | None) -> None:
    """The events match the manifest's changes one to one."""
    changes = expected_changes(row)
    assert len(events) == len(changes)
    for event, change in zip(events, changes, strict=True):
        assert event.provider == row.forge
        assert event.repository == repository
        assert event.delivery_id == DELIVERY
        assert event.ref == change["ref"]
        assert event.before == sha_or_none(change["before"])
        assert event.after == sha_or_none(change["after"])
        assert event.created == (event.before is None)
        assert event.deleted == (event.after is None)
        for flag in ("created", "deleted", "forced"):
            if flag in row.entry.get("flags", {}):
                assert getattr(event, flag) == row.entry["flags"][flag], flag
        for flag, attribute in (
            ("created", "created"),
            ("closed", "deleted"),
            ("forced", "forced"),
        ):
            if flag in change:
                assert getattr(event, attribute) == change[flag], flag
        if row.entry["kind"].endswith("-delete"):
            assert event.deleted and event.after is None
        if row.entry["kind"] == "force-push" and row.provider in ("github", "bitbucket-cloud"):
            assert event.forced
        assert event.kind is not None
        assert event.pusher


@pytest.mark.parametrize("row", ROWS)
def test_repository_name_of_manifest_row(row: Fixture) -> None:
    forge = get_forge(row.forge)
    assert forge is not None
    assert named(forge, headers_for(row), row.body) == expected_repository(row)


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("github/push-branch.json", "Codertocat/Hello-World"),
        ("github/ping-organization.json", None),
        ("gitea/push-branch.json", "gogits/hello-world"),
        ("gitlab/push-docs-example.json", "mike/diaspora"),
        ("bitbucket-cloud/push-branch.json", "cloudbeers/temp"),
        ("bitbucket-server/refs-changed-branch-update-signed.json", "PRJ/my-repo"),
        ("bitbucket-server/refs-changed-tag-create.json", "AMUNIZ/test-repos"),
        ("bitbucket-server/diagnostics-ping.json", None),
    ],
)
def test_repository_name_format(file: str, name: str | None) -> None:
    row = fixture(file)
    forge = FORGES[row.forge]
    assert named(forge, headers_for(row), row.body) == name


@pytest.mark.parametrize("row", ROWS)
def test_event_and_delivery_headers_are_case_insensitive(row: Fixture) -> None:
    forge = FORGES[row.forge]
    lower = {k.lower(): v for k, v in headers_for(row).items()}
    assert forge.event_name(headers_only(forge, lower)) == row.entry["event_header_value"]
    assert forge.delivery_id(headers_only(forge, lower)) == DELIVERY
    assert parsed(forge, lower, row.body) == parsed(forge, headers_for(row), row.body)


def test_forge_registry() -> None:
    assert set(FORGES) == {"github", "gitlab", "gitea", "bitbucket"}
    assert get_forge("github") is github
    assert get_forge("bitbucket-cloud") is None


# --- GitHub --------------------------------------------------------------------------------


GITHUB_ROWS = [pytest.param(row, id=row.file) for row in manifest() if row.provider == "github"]


@pytest.mark.parametrize("row", GITHUB_ROWS)
def test_github_form_encoded_body_parses_like_json(row: Fixture) -> None:
    form = b"payload=" + quote_plus(row.body.decode("utf-8")).encode("ascii")
    headers = headers_for(row, **{"Content-Type": f"{FORM}; charset=utf-8"})
    assert parsed(github, headers, form) == parsed(github, headers_for(row), row.body)
    assert named(github, headers, form) == expected_repository(row)


@pytest.mark.parametrize(
    "form",
    [b"", b"payload=1&payload=2", b"other=1", b"payload=%FF", "payload=é".encode(), b"payload=[]"],
)
def test_github_bad_form_body_is_refused(form: bytes) -> None:
    headers = {"X-GitHub-Event": "push", "Content-Type": FORM}
    with pytest.raises(PayloadError):
        parsed(github, headers, form)


def test_github_push_details() -> None:
    row = fixture("github/push-branch.json")
    event = one_push(parsed(github, headers_for(row), row.body))
    assert event.head_commit_message == "Update README"
    assert event.changed_files == ("README.md",)
    assert event.pusher == "Codertocat"
    assert event.name == "master"


def test_github_deleted_push_is_an_event_not_ignored() -> None:
    row = fixture("github/push-branch-delete.json")
    event = one_push(parsed(github, headers_for(row), row.body))
    assert event.deleted and event.after is None and event.head_commit_message == ""


def github_commits(count: int) -> list[dict[str, Any]]:
    """`count` commits touching a.txt plus one file of their own."""
    return [
        {"id": f"{i:040x}", "added": [f"f{i}"], "modified": ["a.txt"], "removed": []}
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("changes", "files"),
    [
        pytest.param({"commits": github_commits(2)}, ("f0", "a.txt", "f1"), id="union-in-order"),
        pytest.param({"commits": github_commits(19)}, 19, id="19-commits-listed"),
        pytest.param({"commits": github_commits(20)}, None, id="20-commits-may-be-truncated"),
        pytest.param({"commits": github_commits(2), "forced": True}, None, id="forced"),
        pytest.param({"commits": []}, None, id="no-commits-listed"),
        pytest.param({"commits": ...}, None, id="commits-missing"),
        pytest.param({"commits": [{"added": "x"}]}, None, id="malformed-file-list"),
    ],
)
def test_github_changed_files(changes: dict[str, Any], files: Any) -> None:
    row = fixture("github/push-branch.json")
    event = one_push(parsed(github, headers_for(row), mutated(row, **changes)))
    if isinstance(files, int):
        assert event.changed_files is not None and len(event.changed_files) == files + 1
    else:
        assert event.changed_files == files


@pytest.mark.parametrize("event", ["issues", "release", "workflow_run", ""])
def test_github_other_events_are_ignored(event: str) -> None:
    row = fixture("github/push-branch.json")
    result = parsed(github, {"X-GitHub-Event": event}, row.body)
    assert isinstance(result, Ignored)
    assert result.reason == (
        f"unsupported event {event}" if event else "missing X-GitHub-Event header"
    )


def test_github_ping_with_zen_only() -> None:
    assert parsed(github, {"X-GitHub-Event": "ping"}, b'{"zen": "hi"}') == Ping("github")


# --- malformed bodies, every forge ---------------------------------------------------------

ONE_PUSH_PER_FORGE = [
    "github/push-branch.json",
    "gitea/push-branch.json",
    "gitlab/push-branch.json",
    "bitbucket-cloud/push-branch.json",
    "bitbucket-server/refs-changed-branch-update.json",
]


@pytest.mark.parametrize("file", ONE_PUSH_PER_FORGE)
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"", "body is not valid JSON"),
        (b"\xff\xfe{", "body is not valid JSON"),
        (b"[" * 100_000, "body is not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'"push"', "not a JSON object"),
        (b"null", "not a JSON object"),
    ],
)
def test_not_a_json_object_is_refused(file: str, body: bytes, message: str) -> None:
    row = fixture(file)
    forge = FORGES[row.forge]
    with pytest.raises(PayloadError, match=message):
        parsed(forge, headers_for(row), body)
    with pytest.raises(PayloadError, match=message):
        named(forge, headers_for(row), body)


GITHUB_SHAPED = ["github/push-branch.json", "gitea/push-branch.json", "gitlab/push-branch.json"]
BAD_TOP_LEVEL = [
    pytest.param({"ref": ...}, "missing ref", id="ref-missing"),
    pytest.param({"ref": None}, "missing ref", id="ref-null"),
    pytest.param({"ref": 7}, "ref is not a string", id="ref-not-str"),
    pytest.param({"ref": ""}, "ref is empty", id="ref-empty"),
    pytest.param({"ref": "refs/tags/v1\n"}, "control characters", id="ref-newline"),
    pytest.param({"ref": "refs/heads/a\x00b"}, "control characters", id="ref-nul"),
    pytest.param({"after": ...}, "missing after", id="after-missing"),
    pytest.param({"after": "abc"}, "after is not a 40-character hex SHA", id="after-short"),
    pytest.param({"after": "z" * 40}, "after is not a 40-character hex SHA", id="after-not-hex"),
    pytest.param({"after": 12}, "after is not a 40-character hex SHA", id="after-int"),
    pytest.param({"before": "0" * 64}, "before is not a 40", id="before-64"),
]


@pytest.mark.parametrize("file", GITHUB_SHAPED)
@pytest.mark.parametrize(("changes", "message"), BAD_TOP_LEVEL)
def test_bad_push_fields_are_refused(file: str, changes: dict[str, Any], message: str) -> None:
    row = fixture(file)
    with pytest.raises(PayloadError, match=message):
        parsed(FORGES[row.forge], headers_for(row), mutated(row, **changes))


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("github/push-branch.json", "missing repository"),
        ("gitea/push-branch.json", "missing repository"),
        ("bitbucket-cloud/push-branch.json", "missing repository"),
        ("bitbucket-server/refs-changed-branch-update.json", "missing repository"),
    ],
)
def test_push_without_repository_is_refused(file: str, message: str) -> None:
    row = fixture(file)
    body = mutated(row, repository=...)
    forge = FORGES[row.forge]
    with pytest.raises(PayloadError, match=message):
        parsed(forge, headers_for(row), body)
    with pytest.raises(PayloadError, match=message):
        named(forge, headers_for(row), body)


@pytest.mark.parametrize(
    ("repository", "message"),
    [
        ({"name": "x"}, "missing repository.full_name"),
        ({"full_name": ["a"]}, "repository.full_name is not a string"),
        ({"full_name": "a/b\r\n"}, "control characters"),
        ("a/b", "repository is not an object"),
    ],
)
def test_bad_repository_full_name_is_refused(repository: Any, message: str) -> None:
    row = fixture("github/push-branch.json")
    with pytest.raises(PayloadError, match=message):
        named(github, headers_for(row), mutated(row, repository=repository))


def test_gitlab_push_without_project_is_refused() -> None:
    row = fixture("gitlab/push-branch.json")
    with pytest.raises(PayloadError, match="missing project"):
        named(gitlab, headers_for(row), mutated(row, project=...))


@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=50),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=10,
    )
)
@settings(max_examples=60, deadline=None)
@pytest.mark.parametrize("file", ONE_PUSH_PER_FORGE)
def test_any_field_value_gives_a_result_or_payload_error(file: str, value: Any) -> None:
    row = fixture(file)
    data = json.loads(row.body)
    forge = FORGES[row.forge]
    targets = [data, *(v for v in data.values() if isinstance(v, dict))]
    for target in targets:
        for key in list(target):
            original = target[key]
            target[key] = value
            body = json.dumps(data).encode()
            try:
                parsed(forge, headers_for(row), body)
                named(forge, headers_for(row), body)
            except PayloadError:
                pass
            target[key] = original


# --- Gitea ---------------------------------------------------------------------------------


def test_gitea_headers_win_over_the_github_ones_gitea_also_sends() -> None:
    row = fixture("gitea/push-branch.json")
    headers = {
        "X-GitHub-Event": "create",
        "X-Gitea-Event": "push",
        "X-GitHub-Delivery": "github-id",
        "X-Gitea-Delivery": DELIVERY,
    }
    assert gitea.event_name(headers_only(gitea, headers)) == "push"
    assert gitea.delivery_id(headers_only(gitea, headers)) == DELIVERY
    event = one_push(parsed(gitea, headers, row.body))
    assert event.provider == "gitea" and event.delivery_id == DELIVERY


@pytest.mark.parametrize("prefix", ["X-Gogs", "X-Forgejo", "X-GitHub"])
def test_gitea_falls_back_to_other_event_headers(prefix: str) -> None:
    row = fixture("gitea/push-branch.json")
    headers = {f"{prefix}-Event": "push", f"{prefix}-Delivery": DELIVERY}
    event = one_push(parsed(gitea, headers, row.body))
    assert event.delivery_id == DELIVERY


def test_gitea_form_encoded_body() -> None:
    row = fixture("gitea/push-branch-create-signed.json")
    form = b"payload=" + quote_plus(row.body.decode("utf-8")).encode("ascii")
    headers = headers_for(row, **{"Content-Type": FORM})
    assert parsed(gitea, headers, form) == parsed(gitea, headers_for(row), row.body)


@pytest.mark.parametrize(
    ("changes", "files"),
    [
        pytest.param({}, ("README.md",), id="listed"),
        pytest.param({"commits": github_commits(4)}, ("f0", "a.txt", "f1", "f2", "f3"), id="4"),
        pytest.param({"commits": github_commits(5)}, None, id="5-may-be-truncated"),
        pytest.param({"commits": github_commits(2), "total_commits": 3}, None, id="total-larger"),
    ],
)
def test_gitea_changed_files(changes: dict[str, Any], files: tuple[str, ...] | None) -> None:
    row = fixture("gitea/push-branch.json")
    event = one_push(parsed(gitea, headers_for(row), mutated(row, **changes)))
    assert event.changed_files == files
    assert not event.forced


def test_gitea_deletion_is_inferred_from_zero_after() -> None:
    row = fixture("gitea/push-branch.json")
    event = one_push(parsed(gitea, headers_for(row), mutated(row, after=ZERO_SHA, commits=[])))
    assert event.deleted and not event.created and event.after is None


@pytest.mark.parametrize("event", ["issues", "pull_request", "release", ""])
def test_gitea_other_events_are_ignored(event: str) -> None:
    row = fixture("gitea/push-branch.json")
    result = parsed(gitea, {"X-Gitea-Event": event}, row.body)
    assert isinstance(result, Ignored) and result.repository == "gogits/hello-world"


# --- GitLab --------------------------------------------------------------------------------


def test_gitlab_truncated_commit_list_gives_no_changed_files() -> None:
    row = fixture("gitlab/push-docs-example.json")  # total_commits_count 4, 2 listed
    event = one_push(parsed(gitlab, headers_for(row), row.body))
    assert event.changed_files is None
    assert event.head_commit_message == "fixed readme\n"
    assert event.pusher == "jsmith"


def test_gitlab_complete_commit_list_gives_changed_files() -> None:
    row = fixture("gitlab/push-branch.json")
    event = one_push(parsed(gitlab, headers_for(row), row.body))
    assert event.changed_files == ("README.md",)
    assert not event.forced


def test_gitlab_null_checkout_sha_is_a_deletion() -> None:
    row = fixture("gitlab/push-branch.json")
    event = one_push(parsed(gitlab, headers_for(row), mutated(row, checkout_sha=None)))
    assert event.deleted and event.after is None


def test_gitlab_object_kind_must_match_the_event_header() -> None:
    row = fixture("gitlab/tag-push-create.json")
    with pytest.raises(PayloadError, match="object_kind 'tag_push' does not match"):
        parsed(gitlab, {"X-Gitlab-Event": "Push Hook"}, row.body)


@pytest.mark.parametrize("event", ["System Hook", "Merge Request Hook", "Pipeline Hook", ""])
def test_gitlab_other_events_are_ignored(event: str) -> None:
    row = fixture("gitlab/push-branch.json")
    result = parsed(gitlab, {"X-Gitlab-Event": event}, row.body)
    assert isinstance(result, Ignored)
    assert result.repository == "gitlab-org/hello-world"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Gitlab-Event-UUID": "a", "Idempotency-Key": "b", "X-Gitlab-Webhook-UUID": "c"}, "b"),
        ({"X-Gitlab-Event-UUID": "a", "X-Gitlab-Webhook-UUID": "c"}, "a"),
        ({"x-gitlab-webhook-uuid": "c"}, "c"),
        ({}, ""),
    ],
)
def test_gitlab_delivery_id_fallbacks(headers: dict[str, str], expected: str) -> None:
    assert gitlab.delivery_id(headers_only(gitlab, headers)) == expected


# --- Bitbucket -----------------------------------------------------------------------------


def test_bitbucket_delivery_ids() -> None:
    assert bitbucket.delivery_id(headers_only(bitbucket, {"X-Request-UUID": "cloud"})) == "cloud"
    assert bitbucket.delivery_id(headers_only(bitbucket, {"x-request-id": "server"})) == "server"
    assert bitbucket.delivery_id(headers_only(bitbucket, {})) == ""


@pytest.mark.parametrize(
    ("file", "event"),
    [
        ("bitbucket-cloud/push-branch.json", "repo:fork"),
        ("bitbucket-cloud/push-branch.json", "pullrequest:created"),
        ("bitbucket-cloud/push-branch.json", ""),
        ("bitbucket-server/refs-changed-branch-update.json", "pr:opened"),
        ("bitbucket-server/refs-changed-branch-update.json", "mirror:repo_synchronized"),
        ("bitbucket-server/refs-changed-branch-update.json", "repo:modified"),
    ],
)
def test_bitbucket_other_events_are_ignored(file: str, event: str) -> None:
    row = fixture(file)
    headers = {"X-Event-Key": event}
    result = parsed(bitbucket, headers, row.body)
    assert isinstance(result, Ignored) and result.event == event
    assert result.repository == expected_repository(row)
    assert named(bitbucket, headers, row.body) == expected_repository(row)


def test_bitbucket_cloud_event_per_change_keeps_every_change() -> None:
    row = fixture("bitbucket-cloud/push-multiple-changes.json")
    events = parsed(bitbucket, headers_for(row), row.body)
    assert isinstance(events, list)
    assert [e.ref for e in events] == ["refs/heads/master", "refs/heads/manchu", "refs/tags/v0.1"]
    assert all(e.changed_files is None for e in events)


def cloud_change(**side: Any) -> bytes:
    """A Bitbucket Cloud push whose only change is `side`."""
    row = fixture("bitbucket-cloud/push-branch.json")
    data = json.loads(row.body)
    data["push"]["changes"] = [side] if side else []
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"old": None, "new": None}, "has neither old nor new"),
        ({"new": {"type": "named_branch", "name": "x"}}, "new.type is not branch or tag"),
        ({"new": {"type": ["branch"], "name": "x"}}, "new.type is not branch or tag"),
        ({"new": {"type": "branch", "name": "a\x1bb", "target": {}}}, "control characters"),
        ({"new": {"type": "branch", "name": "b", "target": {"hash": "x"}}}, "target.hash is not"),
        ({"new": {"type": "branch", "name": "b"}}, "missing push.changes\\[0\\].new.target"),
    ],
)
def test_bitbucket_cloud_bad_change_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parsed(bitbucket, {"X-Event-Key": "repo:push"}, cloud_change(**change))


def test_bitbucket_cloud_push_with_no_changes_is_ignored() -> None:
    result = parsed(bitbucket, {"X-Event-Key": "repo:push"}, cloud_change())
    assert isinstance(result, Ignored) and result.repository == "cloudbeers/temp"


def server_changes(*changes: dict[str, Any]) -> bytes:
    """A Bitbucket Server refs_changed body with `changes`."""
    row = fixture("bitbucket-server/refs-changed-branch-update.json")
    data = json.loads(row.body)
    data["changes"] = list(changes)
    return json.dumps(data).encode()


def server_change(ref: str, before: str, after: str, kind: str) -> dict[str, Any]:
    """One Bitbucket Server change."""
    return {"ref": {"id": ref}, "fromHash": before, "toHash": after, "type": kind}


def test_bitbucket_server_event_per_change() -> None:
    body = server_changes(
        server_change("refs/heads/a", "1" * 40, "2" * 40, "UPDATE"),
        server_change("refs/tags/t", ZERO_SHA, "3" * 40, "ADD"),
        server_change("refs/heads/gone", "4" * 40, ZERO_SHA, "DELETE"),
    )
    events = parsed(bitbucket, {"X-Event-Key": "repo:refs_changed"}, body)
    assert isinstance(events, list)
    assert [(e.ref, e.before, e.after, e.created, e.deleted) for e in events] == [
        ("refs/heads/a", "1" * 40, "2" * 40, False, False),
        ("refs/tags/t", None, "3" * 40, True, False),
        ("refs/heads/gone", "4" * 40, None, False, True),
    ]
    assert all(e.head_commit_message == "" for e in events)


def test_bitbucket_server_single_change_takes_the_to_commit_message() -> None:
    row = fixture("bitbucket-server/refs-changed-annotated-tag-create.json")
    event = one_push(parsed(bitbucket, headers_for(row), row.body))
    assert event.head_commit_message == "Suppress echo command part"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (server_change("refs/heads/a", "1" * 40, "2" * 40, "MERGE"), "type is not one of"),
        (server_change("refs/heads/a\n", "1" * 40, "2" * 40, "UPDATE"), "control characters"),
        (server_change("refs/heads/a", "1" * 40, "2" * 39, "UPDATE"), "toHash is not"),
        ({"fromHash": "1" * 40, "toHash": "2" * 40, "type": "ADD"}, "missing changes\\[0\\].ref"),
    ],
)
def test_bitbucket_server_bad_change_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parsed(bitbucket, {"X-Event-Key": "repo:refs_changed"}, server_changes(change))


def test_bitbucket_server_ping_names_no_repository() -> None:
    row = fixture("bitbucket-server/diagnostics-ping.json")
    assert parsed(bitbucket, headers_for(row), row.body) == Ping("bitbucket")
    assert named(bitbucket, headers_for(row), row.body) is None


def only_pushes(result: ParseResult) -> list[PushEvent]:
    """The push events of a parse result (fails for pings and ignored deliveries)."""
    assert isinstance(result, list), result
    return result


TAG_OBJECT = "a" * 40
TAGGED_COMMIT = "b" * 40


def test_github_annotated_tag_push_names_the_tagged_commit() -> None:
    payload = json.loads(fixture("github/push-tag.json").body)
    payload.update(after=TAG_OBJECT)
    payload["head_commit"]["id"] = TAGGED_COMMIT
    (event,) = only_pushes(parsed(github, {"X-GitHub-Event": "push"}, json.dumps(payload).encode()))
    assert event.after == TAG_OBJECT and event.commit == TAGGED_COMMIT
    assert event.target == TAGGED_COMMIT


def test_gitlab_annotated_tag_push_names_the_checkout_sha() -> None:
    payload = json.loads(fixture("gitlab/tag-push-create.json").body)
    payload.update(after=TAG_OBJECT, checkout_sha=TAGGED_COMMIT)
    (event,) = only_pushes(
        parsed(gitlab, {"X-Gitlab-Event": "Tag Push Hook"}, json.dumps(payload).encode()))
    assert event.commit == TAGGED_COMMIT and event.target == TAGGED_COMMIT


@pytest.mark.parametrize("name", ["github/push-tag.json", "github/push-branch.json",
                                  "gitlab/tag-push-create.json", "gitlab/push-branch.json"])
def test_lightweight_refs_have_no_separate_commit(name: str) -> None:
    row = fixture(name)
    adapter = get_forge(row.forge)
    assert adapter is not None
    (event,) = only_pushes(parsed(adapter, row.event_headers, row.body))
    assert event.commit is None and event.target == row.entry["after"]


@pytest.mark.parametrize("row", ROWS)
def test_adapters_read_only_the_envelope_decoded_once(row: Fixture) -> None:
    """Parsing never decodes the body again: an envelope whose body is garbage but whose
    decoded payload is the real one parses like the real delivery."""
    forge = FORGES[row.forge]
    real = forge.envelope(headers_for(row), row.body)
    decoded_only = Envelope(real.headers, b"\x00 not json", real.payload)
    assert forge.parse(decoded_only) == forge.parse(real)
    assert forge.repository_name(decoded_only) == forge.repository_name(real)


def test_an_envelope_keeps_its_headers_of_a_body_that_is_not_json() -> None:
    delivery = github.envelope({"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1"}, b"[1]")
    assert github.event_name(delivery) == "push" and github.delivery_id(delivery) == "d-1"
    with pytest.raises(PayloadError, match="body is not a JSON object but a JSON list"):
        github.parse(delivery)
