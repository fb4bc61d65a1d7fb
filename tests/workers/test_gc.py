"""`autobuild gc`'s decisions with a fake engine: young dangling images stay (a classic build's
newest step is one), a dry run removes nothing, and what could not be removed says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workers.gc import dangling_images, run
from workers.gc_images import DanglingImage, parse_created

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class FakeImages:
    """DanglingImages answering from a list, recording removals; `busy` ids are in use."""

    def __init__(self, images: list[DanglingImage], busy: set[str]) -> None:
        self.images = images
        self.busy = busy
        self.removed: list[str] = []

    def dangling(self) -> list[DanglingImage]:
        return list(self.images)

    def remove(self, image_id: str) -> str | None:
        if image_id in self.busy:
            return "conflict: in use by a container"
        self.removed.append(image_id)
        return None


def image(name: str, age: timedelta) -> DanglingImage:
    return DanglingImage(f"sha256:{name}", NOW - age, 5_000_000)


def test_young_images_stay_and_a_dry_run_removes_nothing() -> None:
    fake = FakeImages([image("old", timedelta(days=2)), image("busy", timedelta(hours=3)),
                       image("young", timedelta(minutes=5))], busy={"sha256:busy"})
    found = dangling_images(fake, min_age=3600, now=NOW)
    assert [c.what for c in found] == ["sha256:old", "sha256:busy"]

    lines: list[str] = []
    run(found, dry_run=True, out=lines.append)
    assert fake.removed == []
    assert lines[-1] == "autobuild gc: would remove 2 images"

    lines.clear()
    run(found, dry_run=False, out=lines.append)
    assert fake.removed == ["sha256:old"]
    assert lines == [
        "removed image sha256:old (dangling, 5.0 MB, created 2025-02-27 12:00 UTC)",
        "kept image sha256:busy (dangling, 5.0 MB, created 2025-03-01 09:00 UTC; conflict: "
        "in use by a container)",
        "autobuild gc: removed 1 image"]


def test_engine_times_with_nanoseconds_are_read_as_utc() -> None:
    assert parse_created("2024-05-01T12:00:03.123456789Z") == datetime(2024, 5, 1, 12, 0, 3,
                                                                        tzinfo=UTC)
