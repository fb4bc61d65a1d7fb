"""Webhook signature and token checks, driven by GitHub's vector and the corpus' vectors."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import SignatureError
from core.signatures import sign_bitbucket, sign_gitea, sign_github, verify_signature
from tests.core.fixtures import Fixture, fixture, manifest

DOCS_SECRET = "It's a Secret to Everybody"
DOCS_BODY = b"Hello, World!"
DOCS_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

SIGNED = [(row, sig) for row in manifest() for sig in row.entry.get("signatures", [])]
SHA256_SIGNED = [
    pytest.param(row, sig, id=f"{row.file}:{sig['header']}")
    for row, sig in SIGNED
    if not sig["value"].startswith("sha1=")
]
SHA1_SIGNED = [
    pytest.param(row, sig, id=f"{row.file}:{sig['header']}")
    for row, sig in SIGNED
    if sig["value"].startswith("sha1=")
]

# forge -> (header name, signer) for the HMAC forges
HMAC_FORGES = {
    "github": ("X-Hub-Signature-256", sign_github),
    "gitea": ("X-Gitea-Signature", sign_gitea),
    "bitbucket": ("X-Hub-Signature", sign_bitbucket),
}


def signed_headers(forge: str, body: bytes, secret: str) -> dict[str, str]:
    """The signature header `forge` sends for `body`."""
    name, sign = HMAC_FORGES[forge]
    return {name: sign(body, secret)}


def test_github_documented_vector() -> None:
    assert sign_github(DOCS_BODY, DOCS_SECRET) == DOCS_SIGNATURE
    headers = {"X-Hub-Signature-256": DOCS_SIGNATURE}
    verify_signature("github", DOCS_BODY, headers=headers, secrets=[DOCS_SECRET])


def test_github_documented_vector_with_one_body_byte_changed() -> None:
    headers = {"X-Hub-Signature-256": DOCS_SIGNATURE}
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("github", b"Hello, World?", headers=headers, secrets=[DOCS_SECRET])


@pytest.mark.parametrize(("row", "sig"), SHA256_SIGNED)
def test_manifest_vector_verifies(row: Fixture, sig: dict[str, str]) -> None:
    headers = {sig["header"]: sig["value"]}
    verify_signature(row.forge, row.body, headers=headers, secrets=[sig["secret"]])


@pytest.mark.parametrize(("row", "sig"), SHA256_SIGNED)
def test_manifest_vector_is_what_we_sign(row: Fixture, sig: dict[str, str]) -> None:
    assert signed_headers(row.forge, row.body, sig["secret"]) == {sig["header"]: sig["value"]}


@pytest.mark.parametrize(("row", "sig"), SHA256_SIGNED)
def test_manifest_vector_fails_with_another_secret(row: Fixture, sig: dict[str, str]) -> None:
    headers = {sig["header"]: sig["value"]}
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(row.forge, row.body, headers=headers, secrets=[sig["secret"] + "x"])


@pytest.mark.parametrize(("row", "sig"), SHA1_SIGNED)
def test_legacy_sha1_header_alone_is_refused(row: Fixture, sig: dict[str, str]) -> None:
    headers = {sig["header"]: sig["value"]}
    with pytest.raises(SignatureError, match="missing X-Hub-Signature-256 header"):
        verify_signature(row.forge, row.body, headers=headers, secrets=[sig["secret"]])


def test_gitea_accepts_x_hub_signature_256_when_its_own_header_is_absent() -> None:
    row = fixture("gitea/push-branch-create-signed.json")
    secret = row.entry["signatures"][0]["secret"]
    headers = {"X-Hub-Signature-256": "sha256=" + row.entry["signatures"][0]["value"]}
    verify_signature("gitea", row.body, headers=headers, secrets=[secret])


def test_gitea_does_not_fall_back_when_its_own_header_is_wrong() -> None:
    row = fixture("gitea/push-branch-create-signed.json")
    secret = row.entry["signatures"][0]["secret"]
    headers = {
        "X-Gitea-Signature": sign_gitea(b"other", secret),
        "X-Hub-Signature-256": sign_github(row.body, secret),
    }
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("gitea", row.body, headers=headers, secrets=[secret])


@pytest.mark.parametrize("forge", sorted(HMAC_FORGES))
def test_header_names_are_case_insensitive(forge: str) -> None:
    headers = {k.lower(): v for k, v in signed_headers(forge, b"{}", "s3cret").items()}
    verify_signature(forge, b"{}", headers=headers, secrets=["s3cret"])


@pytest.mark.parametrize("forge", sorted(HMAC_FORGES))
def test_missing_header_is_refused(forge: str) -> None:
    with pytest.raises(SignatureError, match="missing"):
        verify_signature(forge, b"{}", headers={}, secrets=["s3cret"])


def test_bitbucket_hook_uuid_is_not_authentication() -> None:
    headers = {"X-Hook-UUID": "{b0e0bc5e-0d9a-4a59-8a84-2a1cdf4c7f53}", "X-Event-Key": "repo:push"}
    with pytest.raises(SignatureError, match="missing X-Hub-Signature header"):
        verify_signature("bitbucket", b"{}", headers=headers, secrets=["s3cret"])


SHA1_OF_BODY = "sha1=" + "a" * 40
MALFORMED = [
    pytest.param(SHA1_OF_BODY, id="sha1-prefix"),
    pytest.param("sha256=", id="empty-digest"),
    pytest.param("", id="empty-header"),
    pytest.param("sha256=" + "a" * 63, id="truncated-hex"),
    pytest.param("sha256=" + "a" * 65, id="too-long-hex"),
    pytest.param("sha256=" + "g" * 64, id="not-hex"),
    pytest.param("blah=x", id="unknown-algorithm"),
    pytest.param("hash=value=something", id="two-equals"),
    pytest.param("sha256=é" + "a" * 63, id="non-ascii"),
    pytest.param("sha256=" + "٣" * 64, id="unicode-digits"),
    pytest.param("SHA256=" + "a" * 64, id="upper-case-prefix"),
]


@pytest.mark.parametrize("value", MALFORMED)
@pytest.mark.parametrize("forge", ["github", "bitbucket"])
def test_malformed_prefixed_header_is_refused(forge: str, value: str) -> None:
    name = HMAC_FORGES[forge][0]
    with pytest.raises(SignatureError, match="malformed signature header"):
        verify_signature(forge, b"{}", headers={name: value}, secrets=["s3cret"])


def test_github_sha1_header_value_under_the_sha256_name_is_refused() -> None:
    row = fixture("github/push-branch.json")
    sha1 = row.entry["signatures"][1]["value"]
    with pytest.raises(SignatureError, match="malformed"):
        verify_signature(
            "github", row.body, headers={"X-Hub-Signature-256": sha1}, secrets=["topsecret"]
        )


@pytest.mark.parametrize(
    "value", ["", "sha256=" + "a" * 64, "a" * 63, "é" * 64, "g" * 64], ids=str.__len__
)
def test_malformed_gitea_header_is_refused(value: str) -> None:
    with pytest.raises(SignatureError, match="malformed signature header"):
        verify_signature("gitea", b"{}", headers={"X-Gitea-Signature": value}, secrets=["s"])


def test_upper_case_hex_digest_is_accepted() -> None:
    value = "sha256=" + sign_github(DOCS_BODY, DOCS_SECRET).removeprefix("sha256=").upper()
    verify_signature(
        "github", DOCS_BODY, headers={"X-Hub-Signature-256": value}, secrets=[DOCS_SECRET]
    )


@pytest.mark.parametrize("forge", sorted(HMAC_FORGES))
def test_any_configured_secret_verifies(forge: str) -> None:
    headers = signed_headers(forge, b'{"a": 1}', "new-secret")
    verify_signature(forge, b'{"a": 1}', headers=headers, secrets=["old-secret", "new-secret"])
    with pytest.raises(SignatureError):
        verify_signature(forge, b'{"a": 1}', headers=headers, secrets=["old-secret", "other"])


@pytest.mark.parametrize("forge", [*sorted(HMAC_FORGES), "gitlab"])
@pytest.mark.parametrize("secrets", [[], [""]], ids=["no-secrets", "empty-secret"])
def test_no_usable_secret_fails_closed(forge: str, secrets: list[str]) -> None:
    headers = {**signed_headers("github", b"{}", ""), "X-Gitlab-Token": ""}
    with pytest.raises(SignatureError, match="no webhook secret"):
        verify_signature(forge, b"{}", headers=headers, secrets=secrets)


def test_secrets_given_as_one_string_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        verify_signature("github", b"{}", headers={}, secrets="s3cret")


def test_unknown_forge_fails_closed() -> None:
    with pytest.raises(SignatureError, match="no signature scheme"):
        verify_signature("svn", b"{}", headers={}, secrets=["s3cret"])


def test_error_messages_never_contain_the_secret() -> None:
    secret = "very-secret-value"
    cases = [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": f"sha256={secret}"},
    ]
    for headers in cases:
        with pytest.raises(SignatureError) as info:
            verify_signature("github", b"{}", headers=headers, secrets=[secret])
        assert secret not in str(info.value)


def test_form_encoded_body_is_verified_over_the_raw_form_bytes() -> None:
    row = fixture("github/push-branch.json")
    form = b"payload=" + quote_plus(row.body.decode("utf-8")).encode("ascii")
    headers = {"X-Hub-Signature-256": sign_github(form, "topsecret")}
    verify_signature("github", form, headers=headers, secrets=["topsecret"])
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("github", row.body, headers=headers, secrets=["topsecret"])


@pytest.mark.parametrize(("row", "sig"), SHA256_SIGNED)
@given(index=st.integers(min_value=0), mask=st.integers(min_value=1, max_value=255))
def test_flipping_any_body_byte_of_a_signed_fixture_fails(
    row: Fixture, sig: dict[str, str], index: int, mask: int
) -> None:
    body = bytearray(row.body)
    body[index % len(body)] ^= mask
    headers = {sig["header"]: sig["value"]}
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(row.forge, bytes(body), headers=headers, secrets=[sig["secret"]])


@given(index=st.integers(min_value=0, max_value=63), char=st.characters())
def test_changing_any_signature_character_fails(index: int, char: str) -> None:
    digest = DOCS_SIGNATURE.removeprefix("sha256=")
    if char.lower() == digest[index]:
        return
    value = "sha256=" + digest[:index] + char + digest[index + 1 :]
    with pytest.raises(SignatureError):
        verify_signature(
            "github", DOCS_BODY, headers={"X-Hub-Signature-256": value}, secrets=[DOCS_SECRET]
        )


@given(forge=st.sampled_from(sorted(HMAC_FORGES)), value=st.text())
def test_arbitrary_header_values_only_raise_signature_error(forge: str, value: str) -> None:
    name = HMAC_FORGES[forge][0]
    with pytest.raises(SignatureError):
        verify_signature(forge, b"{}", headers={name: value}, secrets=["s3cret"])


def test_gitlab_right_token_is_accepted() -> None:
    verify_signature("gitlab", b"{}", headers={"X-Gitlab-Token": "tok"}, secrets=["tok"])
    verify_signature("gitlab", b"{}", headers={"x-gitlab-token": "tok"}, secrets=["old", "tok"])


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Gitlab-Token": "wrong"}, id="wrong"),
        pytest.param({"X-Gitlab-Token": "to"}, id="prefix"),
        pytest.param({"X-Gitlab-Token": "tokk"}, id="longer"),
        pytest.param({"X-Gitlab-Token": "tök"}, id="non-ascii"),
        pytest.param({"X-Gitlab-Token": "\udcff"}, id="lone-surrogate"),
    ],
)
def test_gitlab_wrong_token_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError, match="token does not match"):
        verify_signature("gitlab", b"{}", headers=headers, secrets=["tok"])


@pytest.mark.parametrize("headers", [{}, {"X-Gitlab-Token": ""}], ids=["absent", "empty"])
def test_gitlab_absent_token_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError, match="missing X-Gitlab-Token header"):
        verify_signature("gitlab", b"{}", headers=headers, secrets=["tok"])


def test_gitlab_ignores_hmac_headers() -> None:
    headers = {"X-Hub-Signature-256": sign_github(b"{}", "tok")}
    with pytest.raises(SignatureError, match="missing X-Gitlab-Token"):
        verify_signature("gitlab", b"{}", headers=headers, secrets=["tok"])


def test_gitlab_token_with_non_ascii_characters_matches_as_wsgi_delivers_it() -> None:
    """GitLab sends the token's UTF-8 bytes; WSGI hands header bytes over as latin-1 text."""
    token = "jeton-sécurisé-✓"
    as_wsgi_decodes = token.encode("utf-8").decode("latin-1")
    verify_signature("gitlab", b"{}", headers={"X-Gitlab-Token": as_wsgi_decodes},
                     secrets=[token])
    with pytest.raises(SignatureError, match="token does not match"):
        verify_signature("gitlab", b"{}", headers={"X-Gitlab-Token": as_wsgi_decodes},
                         secrets=["jeton-securise-?"])
