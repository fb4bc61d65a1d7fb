"""Docker Hub trigger calls: find the repository by its token, read the body, Build now what
it names, and record the call in the trigger log (orchestration; HTTP is in trigger_views).

The steps, each owned elsewhere: the token and the path are checked in constant time and the
body is read (core/triggers), each selected ref is built like Build now (service/actions,
which resolves the ref's current head with git ls-remote), and the call is recorded
(records/triggers) with its outcome, whatever it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import TriggerBodyError
from core.plan import TRIGGER_URL
from core.rules import RepositoryConfig
from core.triggers import (
    MAX_BODY_BYTES,
    TriggerOutcome,
    find_by_token,
    log_body,
    parse_body,
    path_names,
    selections,
)
from records.builds import BuildRecord
from service.actions import ActionError, build_now
from service.extensions import rules, trigger_log
from service.intake import Answer

UNKNOWN = "no such trigger URL: check the token and the repository part of the URL"


@dataclass(frozen=True)
class TriggerCall:
    """One call as it arrived: which URL shape, its token and repository part, the body."""

    url_shape: str  # "classic" (/u/<owner>/<name>/…) or "source" (/api/build/v1/source/…)
    token: str
    body: bytes | None  # None: over MAX_BODY_BYTES, not read
    content_type: str
    client: str
    name: str | None = None
    source: str | None = None


def take_trigger(call: TriggerCall) -> Answer:
    """Answer and record one trigger call: 202 with the builds, or why nothing was built."""
    repo = find_by_token(rules(), call.token)
    if not path_names(repo, name=call.name, source=call.source):
        return _record(call, None, 404, TriggerOutcome.UNKNOWN, UNKNOWN)
    assert repo is not None
    if call.body is None:
        return _record(call, repo, 413, TriggerOutcome.INVALID,
                       f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        request = parse_body(call.body, call.content_type)
    except TriggerBodyError as exc:
        return _record(call, repo, exc.status, TriggerOutcome.INVALID, exc.message)
    chosen, reasons = selections(repo, request)
    builds: list[BuildRecord] = []
    failed = False
    for selection in chosen:
        try:
            builds += build_now(repo, selection.ref, rule_index=selection.rule_index,
                                user="trigger URL", trigger=TRIGGER_URL)
        except ActionError as exc:
            reasons.append(exc.message)
            failed = failed or exc.status == 502
    why = "; ".join(reasons) or None
    if builds:
        return _record(call, repo, 202, TriggerOutcome.QUEUED, why, builds)
    message = f"nothing to build for {request.describe()}: {why}"
    if failed:
        return _record(call, repo, 502, TriggerOutcome.FAILED, message)
    return _record(call, repo, 422, TriggerOutcome.NOT_BUILT, message)


def _record(call: TriggerCall, repo: RepositoryConfig | None, status: int,
            outcome: TriggerOutcome, reason: str | None,
            builds: list[BuildRecord] | None = None) -> Answer:
    """Record the call (the body with every configured token masked, whichever repository's,
    and the URL's) and make its answer."""
    tokens = (call.token, *(t for r in rules().repositories for t in r.trigger_tokens))
    kept = "(over the size limit: not kept)" if call.body is None else log_body(call.body, tokens)
    trigger_log().record(
        repository=repo.name if repo else None, provider=repo.provider if repo else None,
        url_shape=call.url_shape, client=call.client, body=kept,
        outcome=outcome, reason=reason, build_ids=[b.id for b in builds or []],
        status_code=status)
    if status == 202:
        body = {"builds": [b.to_dict() for b in builds or []]}
        return Answer(202, body | ({"not_built": reason} if reason else {}))
    return Answer(status, {"error": reason})
