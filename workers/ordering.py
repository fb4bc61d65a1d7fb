"""When a build's turn comes: build the newest queued commit of its rule and ref, by git.

The job that holds a rule and ref's turn (its build is `cloning`, so no other build of them
runs) looks at every queued build of the rule and ref and at the one whose image the tags hold,
asks the mirror which commit is newest (core/ordering.py), supersedes the others, and builds the
newest itself, even when that is another build's; that build's own job then finds nothing to do.
A late redelivery or an out-of-order push therefore never moves a tag back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from core.ordering import Candidate, Verdict, choose_newest
from core.plan import TRIGGER_PUSH
from core.status import BuildStatus
from records.builds import BuildRecord, BuildStore
from records.coordination import StartResult, start_build
from records.tag_history import last_pushed, queued_siblings
from workers.ports import SourceCheckout

Log = Callable[[str], None]


def _candidate(build: BuildRecord, *, pushed: bool = False) -> Candidate:
    return Candidate(build_id=build.id, commit=build.commit, created_at=build.created_at,
                     before=build.plan.before, forced=build.plan.forced, pushed=pushed)


def take_newest(store: BuildStore, build: BuildRecord, checkout: SourceCheckout,
                log: Log) -> BuildRecord | None:
    """The build this job builds now: `build`, or a newer queued build of its rule and ref it
    claimed; None when the rule's tags already hold a newer (or the same) commit."""
    if build.plan.move_tags_back:
        log("This Retry was confirmed to move the tags back to an older commit: building it "
            "whatever is newer\n")
        return build
    url = build.plan.clone_url
    queued = queued_siblings(store, build)
    pushed = last_pushed(store, build.plan)
    if pushed is not None and pushed.commit == build.commit and build.plan.trigger != TRIGGER_PUSH:
        pushed = None  # Build now and Retry rebuild the commit the tags hold, on purpose
    if not queued and pushed is None:
        return build
    checkout.refresh(url, {b.commit for b in queued} | ({pushed.commit} if pushed else set()))
    known = [b for b in queued if checkout.has_commit(url, b.commit)]
    candidates = [_candidate(build), *map(_candidate, known)]
    if pushed is not None and checkout.has_commit(url, pushed.commit):
        candidates.append(_candidate(pushed, pushed=True))
    verdict = choose_newest(candidates, head=checkout.ref_head(url, build.ref),
                            is_ancestor=lambda a, b: checkout.is_ancestor(url, a, b))
    _supersede_losers(store, known, verdict)
    newest = verdict.newest
    if newest.build_id == build.id:
        return _inherit_pull(build, known, log)
    reason = verdict.reasons[build.id]
    if newest.pushed:
        _end_behind_the_tags(store, build, newest, reason, log)
        return None
    message = f"superseded by build {newest.build_id}: {reason}"
    store.set_status(build.id, BuildStatus.SUPERSEDED, superseded_by=newest.build_id,
                     error=message)
    log(f"Not building {build.commit[:7]}: {message}. This job builds {newest.commit[:7]} "
        "instead.\n")
    if start_build(store, newest.build_id) is not StartResult.STARTED:
        log(f"Build {newest.build_id} was taken by another worker meanwhile.\n")
        return None
    chosen = store.get_build(newest.build_id)
    if chosen is None:
        return None
    store.append_log(chosen.id, f"Started by the job of build {build.id}: this is the newest "
                                f"queued commit of {build.ref} for its rule ({reason}).\n")
    return _inherit_pull(chosen, [build, *known],
                         lambda text: store.append_log(newest.build_id, text))


def _inherit_pull(chosen: BuildRecord, replaced: list[BuildRecord], log: Log) -> BuildRecord:
    """`chosen`, pulling its base images when a build it replaced had to (a rebuild for a
    changed base): else a push that supersedes that rebuild would build on the old base."""
    pulling = [b for b in replaced if b.id != chosen.id and b.plan.pull]
    if chosen.plan.pull or not pulling:
        return chosen
    log(f"Pulling the base images: this build replaces build {pulling[0].id}, which was to "
        "pull them.\n")
    return replace(chosen, plan=replace(chosen.plan, pull=True))


def _supersede_losers(store: BuildStore, known: list[BuildRecord], verdict: Verdict) -> None:
    """Every queued build that lost ends superseded, pointing at the winner, saying why."""
    for loser in known:
        if loser.id == verdict.newest.build_id:
            continue
        why = f"superseded by build {verdict.newest.build_id}: {verdict.reasons[loser.id]}"
        if store.set_status(loser.id, BuildStatus.SUPERSEDED,
                            superseded_by=verdict.newest.build_id, error=why):
            store.append_log(loser.id, f"Not built: {why}.\n")


def _end_behind_the_tags(store: BuildStore, build: BuildRecord, pushed: Candidate, reason: str,
                         log: Log) -> None:
    """The tags already hold this commit, or a newer one: end without moving them."""
    if pushed.commit == build.commit:
        message = (f"the rule's tags for {build.ref} already hold commit {build.commit[:7]} "
                   f"(build {pushed.build_id}); nothing to build")
        store.set_status(build.id, BuildStatus.SKIPPED, error=message)
    else:
        message = (f"superseded by build {pushed.build_id}, whose image the tags hold: {reason}"
                   "; not moving the tags back")
        store.set_status(build.id, BuildStatus.SUPERSEDED, superseded_by=pushed.build_id,
                         error=message)
    log(f"Not building {build.commit[:7]}: {message}.\n")
