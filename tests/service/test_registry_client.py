"""Manifest HEADs over real HTTP (a local server playing the registry): the digest, token and
basic logins, rate limits, and what is refused (plain-HTTP token realms, redirects)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from service.registry_client import ACCEPT, ManifestAnswer, RegistryClient, manifest_url

DIGEST = "sha256:" + "d" * 64
PATH = "/v2/team/base/manifests/1.0"


def reference(server: HTTPServer) -> str:
    return f"127.0.0.1:{server.port}/team/base:1.0"


def test_the_digest_comes_from_docker_content_digest_with_lists_accepted(
        httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH, method="HEAD", headers={"Accept": ACCEPT}).respond_with_data(
        "", headers={"Docker-Content-Digest": DIGEST})
    assert RegistryClient().head(reference(httpserver)) == ManifestAnswer(digest=DIGEST)
    assert "application/vnd.oci.image.index.v1+json" in ACCEPT
    assert "application/vnd.docker.distribution.manifest.list.v2+json" in ACCEPT


def test_without_the_header_the_manifest_itself_is_hashed(httpserver: HTTPServer) -> None:
    body = json.dumps({"schemaVersion": 2, "layers": []}).encode()
    httpserver.expect_request(PATH, method="HEAD").respond_with_data("")
    httpserver.expect_request(PATH, method="GET").respond_with_data(body)
    answer = RegistryClient().head(reference(httpserver))
    assert answer.digest == "sha256:" + hashlib.sha256(body).hexdigest()


def test_a_token_challenge_is_answered_with_the_login_as_docker_hub_asks(
        httpserver: HTTPServer) -> None:
    realm = httpserver.url_for("/token")
    challenge = (f'Bearer realm="{realm}",service="registry.test",'
                 'scope="repository:team/base:pull"')
    seen: list[dict[str, str]] = []

    def manifest(request: Request) -> Response:
        if request.headers.get("Authorization") != "Bearer t0ken":
            return Response("", status=401, headers={"WWW-Authenticate": challenge})
        return Response("", headers={"Docker-Content-Digest": DIGEST})

    def token(request: Request) -> Response:
        seen.append({"query": request.query_string.decode(),
                     "auth": request.headers.get("Authorization", "")})
        return Response(json.dumps({"token": "t0ken"}), content_type="application/json")

    httpserver.expect_request(PATH, method="HEAD").respond_with_handler(manifest)
    httpserver.expect_request("/token").respond_with_handler(token)

    answer = RegistryClient().head(reference(httpserver), login=("puller", "pa55word"))

    assert answer == ManifestAnswer(digest=DIGEST)
    expected = "Basic " + base64.b64encode(b"puller:pa55word").decode()
    assert seen == [{"query": "service=registry.test&scope=repository%3Ateam%2Fbase%3Apull",
                     "auth": expected}]


def test_a_token_realm_over_plain_http_elsewhere_gets_no_login(httpserver: HTTPServer) -> None:
    challenge = 'Bearer realm="http://auth.example.com/token",service="x"'
    httpserver.expect_request(PATH, method="HEAD").respond_with_data(
        "", status=401, headers={"WWW-Authenticate": challenge})
    answer = RegistryClient().head(reference(httpserver), login=("puller", "pa55word"))
    assert (answer.digest, answer.status) == (None, 401)
    assert answer.message == "the registry's token service is not HTTPS; no login is sent there"


def test_a_basic_challenge_is_answered_only_with_a_login(httpserver: HTTPServer) -> None:
    good = "Basic " + base64.b64encode(b"puller:pa55word").decode()

    def manifest(request: Request) -> Response:
        if request.headers.get("Authorization") == good:
            return Response("", headers={"Docker-Content-Digest": DIGEST})
        return Response("", status=401, headers={"WWW-Authenticate": 'Basic realm="r"'})

    httpserver.expect_request(PATH, method="HEAD").respond_with_handler(manifest)
    assert RegistryClient().head(reference(httpserver)).message == (
        "the registry asks for a login (401): set pull_auth for it")
    assert RegistryClient().head(reference(httpserver), login=("puller", "pa55word")).digest \
        == DIGEST


@pytest.mark.parametrize(("retry_after", "wait"), [("120", 120.0), (None, None),
                                                   ("soon", None)],
                         ids=["seconds", "absent", "unreadable"])
def test_a_rate_limit_answer_says_how_long_to_wait(httpserver: HTTPServer,
                                                   retry_after: str | None,
                                                   wait: float | None) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    httpserver.expect_request(PATH, method="HEAD").respond_with_data("", status=429,
                                                                     headers=headers)
    answer = RegistryClient().head(reference(httpserver))
    assert answer.rate_limited and answer.digest is None and answer.retry_after == wait
    assert answer.message == "the registry's rate limit (429 Too Many Requests)"


@pytest.mark.parametrize("status", [302, 404, 500])
def test_other_answers_are_failures_and_redirects_are_not_followed(httpserver: HTTPServer,
                                                                   status: int) -> None:
    httpserver.expect_request(PATH, method="HEAD").respond_with_data(
        "", status=status, headers={"Location": httpserver.url_for("/elsewhere")})
    answer = RegistryClient().head(reference(httpserver))
    assert (answer.digest, answer.status) == (None, status)
    assert answer.message == f"HTTP {status} for http://{reference(httpserver).split('/')[0]}" \
        f"{PATH}"


def test_no_answer_is_a_failure_without_a_traceback() -> None:
    answer = RegistryClient().head("127.0.0.1:1/team/base:1.0")
    assert (answer.digest, answer.status) == (None, 0)
    assert answer.message.startswith("no answer from the registry: ")


@pytest.mark.parametrize(("given", "url"), [
    ("debian:12", "https://registry-1.docker.io/v2/library/debian/manifests/12"),
    ("ghcr.io/acme/app", "https://ghcr.io/v2/acme/app/manifests/latest"),
    ("127.0.0.1:5000/local/busybox:latest", "http://127.0.0.1:5000/v2/local/busybox/manifests/latest"),
    ("localhost:5000/x:1", "http://localhost:5000/v2/x/manifests/1"),
    ("ghcr.io/acme/app@sha256:" + "a" * 64, None),
    ("Not A Reference", None),
])
def test_manifest_urls(given: str, url: str | None) -> None:
    assert manifest_url(given) == url
