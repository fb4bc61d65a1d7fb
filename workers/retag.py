"""Pushing an image another ref already built, and saying whose tags a push takes over.

A commit already built for the same rule with the same inputs (another branch or tag on it, or
a forced push back to it) is not built again: its image is pushed under this ref's tags, and
the build is recorded as its own, pointing at the build whose image it reused.
"""

from __future__ import annotations

from collections.abc import Callable

from core.plan import TRIGGER_PUSH
from core.status import BuildStatus
from records.builds import BuildRecord, BuildStore
from records.tag_history import reusable_build, takeovers
from workers.ports import ImageStore

Log = Callable[[str], None]


def image_to_reuse(store: BuildStore, build: BuildRecord) -> BuildRecord | None:
    """The earlier build whose image this push can take, or None when it must be built.

    Only pushes reuse: Build now and Retry build on purpose, and hooks may change the image.
    Multi-platform images are built again (a pull fetches one platform only)."""
    if build.plan.trigger != TRIGGER_PUSH or build.plan.hooks or build.plan.platforms:
        return None
    return reusable_build(store, build.plan, exclude=build.id)


def pull_reused_image(store: BuildStore, build: BuildRecord, reused: BuildRecord,
                      images: ImageStore, *, auth_config: dict[str, str] | None,
                      log: Log) -> str:
    """Fetch the reused build's image by digest and tag it with this build's tags; returns the
    local image id."""
    assert reused.digest is not None
    log(f"Commit {build.commit[:7]} was already built with the same inputs by build "
        f"{reused.id} ({reused.ref}); pushing its image as {', '.join(build.tags)} instead of "
        "building it again\n")
    store.mark_reused(build.id, reused.id)
    store.set_status(build.id, BuildStatus.PUSHING)
    image_id = images.fetch_by_digest(build.plan.image, reused.digest, auth_config=auth_config)
    for reference in build.tags:
        images.tag(image_id, reference)
    return image_id


def note_takeovers(store: BuildStore, build: BuildRecord, log: Log) -> None:
    """Log, for each tag last pushed from another ref, that this build moves it here."""
    for moved in takeovers(store, build):
        lead = "Warning: " if moved.alarm else ""
        log(f"{lead}tag {moved.tag} moves from {moved.holder.ref} (build {moved.holder.id}, "
            f"commit {moved.holder.commit[:7]}) to {build.ref}\n")
