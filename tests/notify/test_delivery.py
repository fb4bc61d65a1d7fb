"""Delivering notifications: order, auth, retries and giving up, masking, and the build never
changing (a real SQLite outbox; the recording client for ordering, a real local HTTP server
for what the wire does)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import timedelta

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from core.credentials import SecretRef
from core.notify.retry import MAX_ATTEMPTS
from core.notify.targets import WebhookTarget
from core.status import BuildStatus
from notify.delivery import Notifier
from notify.http import HttpAnswer, HttpFailure, RequestsClient
from notify.sweep import Sweeper
from records.builds import BuildStore
from records.outbox import NotificationState, Outbox
from tests.fakes import RecordingHttpClient, RecordingNotificationQueue
from tests.notify.conftest import (
    ENVIRON,
    HOOK_SECRET,
    TOKEN,
    ManualClock,
    build_with,
    hook_target,
    status_target,
)

COMMIT = "a" * 40
STATUS_PATH = f"/repos/acme/webapp/statuses/{COMMIT}"


def notifier(outbox: Outbox, client: object, **changes: object) -> Notifier:
    values: dict[str, object] = {"outbox": outbox, "client": client, "environ": ENVIRON,
                                 "public_url": "https://ci.example.com", "backoff": 10.0,
                                 "jitter": lambda: 0.5}
    values.update(changes)
    return Notifier(**values)  # type: ignore[arg-type]


def states(outbox: Outbox, build_id: str) -> list[tuple[str, str, int]]:
    return [(n.event, n.state.value, n.attempts) for n in outbox.for_build(build_id)]


def test_statuses_go_out_in_event_order_with_the_token(store: BuildStore, outbox: Outbox) -> None:
    build_id = build_with(store, BuildStatus.SUCCESS, status=status_target("http://127.0.0.1:9"))
    client = RecordingHttpClient()

    notifier(outbox, client).deliver(build_id)

    assert [json.loads(body)["state"] for _, _, body in client.posts] == [
        "pending", "pending", "success"]
    assert {url for url, _, _ in client.posts} == {f"http://127.0.0.1:9{STATUS_PATH}"}
    assert {headers["Authorization"] for _, headers, _ in client.posts} == {f"Bearer {TOKEN}"}
    assert states(outbox, build_id) == [("queued", "sent", 1), ("cloning", "sent", 1),
                                        ("success", "sent", 1)]
    assert all(TOKEN not in n.request.to_dict().__repr__() for n in outbox.for_build(build_id))


def test_a_newer_status_waits_for_an_older_one_being_sent(store: BuildStore,
                                                         outbox: Outbox) -> None:
    build_id = build_with(store, BuildStatus.CLONING, status=status_target("http://127.0.0.1:9"))
    notifier(outbox, RecordingHttpClient()).deliver(build_id, limit=0)  # expand only

    first = outbox.claim_next(build_id, lease=timedelta(seconds=60))
    second = outbox.claim_next(build_id, lease=timedelta(seconds=60))

    assert first is not None and first.event == "queued"
    assert second is None  # cloning waits while queued is being sent by someone else


def test_an_older_status_still_retrying_is_skipped_once_a_newer_one_exists(
    store: BuildStore, outbox: Outbox, clock: ManualClock,
) -> None:
    build_id = build_with(store, BuildStatus.QUEUED, status=status_target("http://127.0.0.1:9"))
    client = RecordingHttpClient(HttpAnswer(502, "Bad Gateway"))
    notifier(outbox, client).deliver(build_id)
    store.set_status(build_id, BuildStatus.CLONING)
    store.set_status(build_id, BuildStatus.BUILDING)
    store.set_status(build_id, BuildStatus.PUSHING)
    store.set_status(build_id, BuildStatus.SUCCESS)
    clock.advance(3600)

    notifier(outbox, client).deliver(build_id)

    assert [json.loads(body)["state"] for _, _, body in client.posts] == [
        "pending", "pending", "success"]  # queued's retry never follows the newer ones
    assert states(outbox, build_id) == [("queued", "skipped", 1), ("cloning", "sent", 1),
                                        ("success", "sent", 1)]


def test_retries_on_500_then_sent_on_a_real_server(store: BuildStore, outbox: Outbox,
                                                   clock: ManualClock,
                                                   httpserver: HTTPServer) -> None:
    build_id = build_with(store, BuildStatus.SUCCESS, notify=(hook_target(
        httpserver.url_for("/hook")),))
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data(
        "down for maintenance", status=500)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")
    queue = RecordingNotificationQueue()
    send = notifier(outbox, RequestsClient(), queue=queue)

    send.deliver(build_id)
    (first,) = outbox.for_build(build_id)
    assert (first.state, first.attempts, first.last_status) == (NotificationState.PENDING, 1, 500)
    assert first.last_answer == ("HTTP 500 INTERNAL SERVER ERROR: down for maintenance "
                                 "(HTTP 500; retrying in 10 s)")
    assert first.next_attempt_at == clock.now + timedelta(seconds=10)
    assert queue.enqueued == [(build_id, 10.0)]
    assert send.deliver(build_id) == []  # not due yet
    clock.advance(10)
    send.deliver(build_id)

    httpserver.check_assertions()
    (done,) = outbox.for_build(build_id)
    assert (done.state, done.attempts, done.last_answer) == (NotificationState.SENT, 2,
                                                             "HTTP 200 OK: ok")
    assert store.get_build(build_id).status is BuildStatus.SUCCESS  # type: ignore[union-attr]


def drop_connection(request: Request) -> Response:
    """Close the socket without answering, like a receiver that crashed mid-request."""
    request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
    return Response("never sent")


def test_retries_on_a_dropped_connection(store: BuildStore, outbox: Outbox, clock: ManualClock,
                                         httpserver: HTTPServer) -> None:
    build_id = build_with(store, BuildStatus.SUCCESS, notify=(hook_target(
        httpserver.url_for("/hook")),))
    httpserver.expect_ordered_request("/hook").respond_with_handler(drop_connection)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    send = notifier(outbox, RequestsClient())

    send.deliver(build_id)
    (first,) = outbox.for_build(build_id)
    clock.advance(10)
    send.deliver(build_id)

    assert (first.state, first.last_status) == (NotificationState.PENDING, None)
    assert first.last_answer is not None and first.last_answer.startswith("connection failed: ")
    (done,) = outbox.for_build(build_id)
    assert (done.state, done.attempts) == (NotificationState.SENT, 2)


def test_429_honours_retry_after(store: BuildStore, outbox: Outbox, clock: ManualClock,
                                 httpserver: HTTPServer) -> None:
    build_id = build_with(store, BuildStatus.SUCCESS, notify=(hook_target(
        httpserver.url_for("/hook")),))
    httpserver.expect_ordered_request("/hook").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"})
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    send = notifier(outbox, RequestsClient())

    send.deliver(build_id)
    (limited,) = outbox.for_build(build_id)
    clock.advance(6)
    assert send.deliver(build_id) == []
    clock.advance(1)
    send.deliver(build_id)

    assert limited.next_attempt_at - limited.updated_at == timedelta(seconds=7)
    assert limited.last_answer == ("HTTP 429 TOO MANY REQUESTS: slow down "
                                   "(HTTP 429; retrying in 7 s)")
    assert outbox.for_build(build_id)[0].state is NotificationState.SENT


def test_a_4xx_is_final_and_the_answer_is_kept(store: BuildStore, outbox: Outbox,
                                               httpserver: HTTPServer) -> None:
    build_id = build_with(store, BuildStatus.SUCCESS, status=status_target(httpserver.url_for(
        "/api/v3"), forge="github"))
    httpserver.expect_request(f"/api/v3{STATUS_PATH}").respond_with_data(
        '{"message": "Validation Failed"}', status=422, content_type="application/json")

    notifier(outbox, RequestsClient()).deliver(build_id)

    last = outbox.for_build(build_id)[-1]
    assert (last.state, last.attempts, last.last_status) == (NotificationState.FAILED, 1, 422)
    assert last.last_answer == ('HTTP 422 UNPROCESSABLE ENTITY: {"message": "Validation Failed"}'
                                " (HTTP 422 is not retried)")
    assert store.get_build(build_id).status is BuildStatus.SUCCESS  # type: ignore[union-attr]


def test_gives_up_after_the_last_attempt_and_the_build_stays_success(
    store: BuildStore, outbox: Outbox, clock: ManualClock,
) -> None:
    build_id = build_with(store, BuildStatus.SUCCESS, notify=(hook_target("http://127.0.0.1:9"),))
    client = RecordingHttpClient(*[HttpFailure("timed out waiting for the receiver")] * 10)
    send = notifier(outbox, client)

    for _ in range(MAX_ATTEMPTS + 2):
        send.deliver(build_id)
        clock.advance(3600)

    (row,) = outbox.for_build(build_id)
    assert (row.state, row.attempts) == (NotificationState.FAILED, MAX_ATTEMPTS)
    assert row.last_answer == (f"timed out waiting for the receiver (gave up after "
                               f"{MAX_ATTEMPTS} attempts (timed out waiting for the receiver))")
    assert len(client.posts) == MAX_ATTEMPTS
    assert store.get_build(build_id).status is BuildStatus.SUCCESS  # type: ignore[union-attr]


def test_the_signature_verifies_over_the_raw_body(store: BuildStore, outbox: Outbox,
                                                  httpserver: HTTPServer) -> None:
    build_id = build_with(store, BuildStatus.SUCCESS, notify=(hook_target(
        httpserver.url_for("/hook")),))
    seen: list[tuple[bytes, str, str]] = []

    def receiver(request: Request) -> Response:
        seen.append((request.get_data(), request.headers["X-Autobuild-Signature-256"],
                     request.headers["X-Autobuild-Delivery"]))
        return Response("thanks", status=202)

    httpserver.expect_request("/hook").respond_with_handler(receiver)

    notifier(outbox, RequestsClient()).deliver(build_id)

    ((body, signature, delivery),) = seen
    expected = "sha256=" + hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    (row,) = outbox.for_build(build_id)
    assert delivery == row.id and row.state is NotificationState.SENT
    assert json.loads(body)["push_data"]["tag"] == "latest"


def test_secrets_in_an_answer_are_masked(store: BuildStore, outbox: Outbox,
                                         httpserver: HTTPServer) -> None:
    build_id = build_with(store, BuildStatus.QUEUED, status=status_target(httpserver.url_for(
        "/gh")))
    httpserver.expect_request(f"/gh{STATUS_PATH}").respond_with_handler(
        lambda request: Response(f"bad credentials: {request.headers['Authorization']}",
                                 status=401))

    notifier(outbox, RequestsClient()).deliver(build_id)

    (row,) = outbox.for_build(build_id)
    assert row.last_answer == ("HTTP 401 UNAUTHORIZED: bad credentials: Bearer *** "
                               "(HTTP 401 is not retried)")
    assert TOKEN not in str(row.to_dict())


def test_a_missing_secret_is_retried_and_named_never_shown(store: BuildStore,
                                                           outbox: Outbox) -> None:
    build_id = build_with(store, BuildStatus.QUEUED, status=status_target("http://127.0.0.1:9"))
    client = RecordingHttpClient()

    notifier(outbox, client, environ={}).deliver(build_id)

    (row,) = outbox.for_build(build_id)
    assert client.posts == []
    assert (row.state, row.attempts) == (NotificationState.PENDING, 1)
    assert row.last_answer is not None and row.last_answer.startswith(
        "not sent: bearer token: environment variable STATUS_TOKEN is not set")


def test_a_url_reference_is_resolved_when_sending_and_never_stored(
    store: BuildStore, outbox: Outbox, httpserver: HTTPServer,
) -> None:
    secret_url = httpserver.url_for("/services/T000/B000/XXXXSECRET")
    target = WebhookTarget(url_ref=SecretRef(env="CHAT_URL"), format="slack")
    build_id = build_with(store, BuildStatus.SUCCESS, notify=(target,))
    httpserver.expect_request("/services/T000/B000/XXXXSECRET").respond_with_data("ok")

    notifier(outbox, RequestsClient(), environ={"CHAT_URL": secret_url}).deliver(build_id)

    (row,) = outbox.for_build(build_id)
    assert (row.kind, row.target, row.state) == ("chat", "${CHAT_URL}", NotificationState.SENT)
    assert "XXXXSECRET" not in json.dumps(row.to_dict()) + json.dumps(row.request.to_dict())


def test_claims_never_hand_one_row_to_two_senders(store: BuildStore, outbox: Outbox) -> None:
    build_id = build_with(store, BuildStatus.SUCCESS, notify=(
        hook_target("http://127.0.0.1:9/a"), hook_target("http://127.0.0.1:9/b")))
    notifier(outbox, RecordingHttpClient()).deliver(build_id, limit=0)
    other = Outbox(store.engine, clock=outbox.clock)

    claimed = [outbox.claim_next(build_id, lease=timedelta(seconds=60)),
               other.claim_next(build_id, lease=timedelta(seconds=60)),
               outbox.claim_next(build_id, lease=timedelta(seconds=60))]

    ids = [c.id for c in claimed if c is not None]
    assert len(ids) == 2 and len(set(ids)) == 2 and claimed[2] is None


def test_a_dead_senders_row_is_due_again_after_its_lease(store: BuildStore, outbox: Outbox,
                                                         clock: ManualClock) -> None:
    build_id = build_with(store, BuildStatus.SUCCESS, notify=(hook_target("http://127.0.0.1:9"),))
    notifier(outbox, RecordingHttpClient()).deliver(build_id, limit=0)
    assert outbox.claim_next(build_id, lease=timedelta(seconds=60)) is not None  # then it dies

    assert outbox.release_expired() == 0
    clock.advance(61)
    assert outbox.release_expired() == 1
    assert outbox.due_builds(grace=timedelta(seconds=5)) == [build_id]


def test_the_sweep_enqueues_untaken_work_once_a_while(store: BuildStore, outbox: Outbox,
                                                      clock: ManualClock) -> None:
    build_id = build_with(store, BuildStatus.SUCCESS, notify=(hook_target("http://127.0.0.1:9"),))
    queue = RecordingNotificationQueue()
    sweeper = Sweeper(outbox, queue, grace=timedelta(seconds=5))

    assert sweeper.sweep() == []  # its own job may still be on the way
    clock.advance(6)
    assert sweeper.sweep() == [build_id]
    assert sweeper.sweep() == []  # not again right away
    assert queue.enqueued == [(build_id, 0.0)]
