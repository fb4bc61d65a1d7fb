"""Build statuses and the transitions allowed between them (no I/O)."""

from __future__ import annotations

from enum import StrEnum


class BuildStatus(StrEnum):
    """Where a build is; the value is what the API and the database hold."""

    QUEUED = "queued"
    CLONING = "cloning"
    BUILDING = "building"
    PUSHING = "pushing"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    SUPERSEDED = "superseded"
    SKIPPED = "skipped"

    def is_terminal(self) -> bool:
        """True once the build can no longer change."""
        return self in TERMINAL

    def is_running(self) -> bool:
        """True while a worker holds the build."""
        return self in RUNNING


RUNNING = frozenset({BuildStatus.CLONING, BuildStatus.BUILDING, BuildStatus.PUSHING})
TERMINAL = frozenset(
    {
        BuildStatus.SUCCESS,
        BuildStatus.FAILED,
        BuildStatus.CANCELLED,
        BuildStatus.TIMED_OUT,
        BuildStatus.SUPERSEDED,
        BuildStatus.SKIPPED,
    }
)
_ENDINGS = frozenset({BuildStatus.FAILED, BuildStatus.CANCELLED, BuildStatus.TIMED_OUT})

ALLOWED_TRANSITIONS: dict[BuildStatus, frozenset[BuildStatus]] = {
    BuildStatus.QUEUED: frozenset(
        {BuildStatus.CLONING, BuildStatus.SUPERSEDED, BuildStatus.SKIPPED} | _ENDINGS
    ),
    # from cloning: superseded by a newer commit found in the mirror; straight to pushing when
    # the image of an earlier build of the same commit and inputs is pushed again (a retag)
    BuildStatus.CLONING: frozenset({BuildStatus.BUILDING, BuildStatus.PUSHING,
                                    BuildStatus.SKIPPED, BuildStatus.SUPERSEDED} | _ENDINGS),
    BuildStatus.BUILDING: frozenset({BuildStatus.PUSHING} | _ENDINGS),
    BuildStatus.PUSHING: frozenset({BuildStatus.SUCCESS} | _ENDINGS),
}


def can_transition(current: BuildStatus, new: BuildStatus) -> bool:
    """Whether a build in `current` may move to `new`."""
    return new in ALLOWED_TRANSITIONS.get(current, frozenset())
