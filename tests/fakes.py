"""Test doubles that subclass or satisfy our ports and record what they were asked to do."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from core.errors import CloneError, ImageBuildError, PushError
from notify.http import HttpAnswer, HttpFailure
from records.builds import BuildRecord
from service.queue_watch import ListeningWorker, QueueSnapshot, QueueState
from service.registry_client import ManifestAnswer
from workers.build_spec import BuildSpec, BuildStopped, BuiltImage, ImageBuilder, Log
from workers.manifests import staging_reference
from workers.ports import ImageStore, SourceCheckout, WorkerTools


class RecordingQueue:
    """A BuildQueue that records enqueued builds instead of talking to Redis."""

    def __init__(self, *, fail: bool = False) -> None:
        self.enqueued: list[str] = []
        self.discarded: list[str] = []
        self.fail = fail

    def enqueue(self, build: BuildRecord) -> None:
        """Record the build id (or fail like an unreachable Redis)."""
        if self.fail:
            raise ConnectionError("redis is down")
        self.enqueued.append(build.id)

    def discard(self, build_id: str) -> None:
        """Record that the build's job was dropped."""
        self.discarded.append(build_id)

    def has_job(self, build_id: str) -> bool:
        """Jobs are 'lost' when the test empties `enqueued` (like Redis restarting empty)."""
        return build_id in self.enqueued

    def missing_jobs(self, build_ids: list[str]) -> list[str]:
        """The builds `has_job` says are lost."""
        return [b for b in build_ids if not self.has_job(b)]


class FakeQueueWatch:
    """A QueueWatch answering from `listening` ({queue: [worker hostnames]}) and `depths`,
    recording which queues it was asked about; `down` plays an unreachable Redis."""

    def __init__(self, listening: dict[str, list[str]] | None = None, *,
                 depths: dict[str, int] | None = None, down: bool = False) -> None:
        self.listening = listening or {}
        self.depths = depths or {}
        self.down = down
        self.asked: list[tuple[str, ...]] = []

    def snapshot(self, names: Iterable[str]) -> QueueSnapshot | None:
        """The scripted state of `names` and of every queue a scripted worker listens on."""
        wanted = tuple(sorted(set(names) | set(self.listening)))
        self.asked.append(wanted)
        if self.down:
            return None
        return QueueSnapshot(tuple(QueueState(name, self.depths.get(name, 0), tuple(
            ListeningWorker(f"{host}-{name}", host, 100 + i, "idle", (name,))
            for i, host in enumerate(self.listening.get(name, [])))) for name in wanted))


class RecordingNotificationQueue:
    """A NotificationQueue that records (build id, delay) instead of talking to Redis."""

    def __init__(self, *, fail: bool = False) -> None:
        self.enqueued: list[tuple[str, float]] = []
        self.fail = fail

    def enqueue(self, build_id: str, *, delay: float = 0.0) -> None:
        """Record the job (or fail like an unreachable Redis)."""
        if self.fail:
            raise ConnectionError("redis is down")
        self.enqueued.append((build_id, delay))


class RecordingHttpClient:
    """An HttpClient that records each POST and answers from a script (default: 201)."""

    def __init__(self, *answers: HttpAnswer | HttpFailure) -> None:
        self.answers = list(answers)
        self.posts: list[tuple[str, dict[str, str], bytes]] = []

    def post(self, url: str, *, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
        """Record the request; answer the next scripted answer, or raise a scripted failure."""
        self.posts.append((url, dict(headers), body))
        answer = self.answers.pop(0) if self.answers else HttpAnswer(201, "Created")
        if isinstance(answer, HttpFailure):
            raise answer
        return answer
Events = list[tuple[str, ...]]
"""What the fakes of one build were asked to do, in order: ("checkout", commit), ("build", tag),
("tag", image, reference), ("push", reference), …, shared by the fakes of one FakeTools."""


class FakeCheckout(SourceCheckout):
    """A SourceCheckout writing `files` into the destination instead of running git."""

    def __init__(self, events: Events, files: dict[str, str], *, error: str | None = None,
                 changed: list[str] | None = None, head: str | None = None) -> None:
        self.events = events
        self.files = files
        self.error = error
        self.changed = changed
        self.head = head
        self.git_env: dict[str, str] = {}

    def checkout(self, url: str, commit: str, dest: Path, *, submodules: bool = False,
                 lfs: bool = False) -> Path:
        """Write the files (executable under hooks/), or fail like an unreachable remote."""
        self.events.append(("checkout", commit))
        if self.error is not None:
            raise CloneError(self.error)
        for name, content in self.files.items():
            path = dest / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            if name.startswith("hooks/"):
                path.chmod(0o755)
        self.commit = commit
        return dest

    def head_commit(self, checkout: Path) -> str:
        """The commit checked out (or the scripted `head`: an annotated tag's commit)."""
        return self.head or self.commit

    def changed_files(self, url: str, before: str, after: str) -> list[str] | None:
        """The scripted changed files."""
        self.events.append(("changed_files", before, after))
        return self.changed

    def update(self, url: str, commit: str) -> Path:
        """Nothing to fetch (not an event: the events are what a build does with its commit);
        fail like an unreachable remote when scripted to."""
        if self.error is not None:
            raise CloneError(self.error)
        return Path("/nonexistent/mirror")

    def refresh(self, url: str, commits: set[str]) -> None:
        """Nothing to refresh."""

    def has_commit(self, url: str, commit: str) -> bool:
        """Every commit is 'there'."""
        return True

    def ref_head(self, url: str, ref: str) -> str | None:
        """No head is known: ancestry alone orders builds."""
        return None

    def is_ancestor(self, url: str, ancestor: str, descendant: str) -> bool:
        """Commits named with a lower number are ancestors of higher ones (1… < 2… < 3…)."""
        return ancestor < descendant


class FakeBuilder(ImageBuilder):
    """An ImageBuilder recording specs and printing `output`; it fails, or blocks until stop()
    or release() (then BuildStopped), when told; `can_stop=False` answers like classic."""

    def __init__(self, events: Events, *, output: str = "#1 [1/1] FROM scratch\n",
                 error: str | None = None, can_stop: bool = True, block: bool = False) -> None:
        self.events = events
        self.output = output
        self.error = error
        self.can_stop = can_stop
        self.block = block
        self.specs: list[BuildSpec] = []
        self.stops = 0
        self.started = threading.Event()
        self._released = threading.Event()

    def build(self, spec: BuildSpec, *, log: Log) -> BuiltImage:
        """Record the spec; print, then fail, block or return an image per platform."""
        self.specs.append(spec)
        self.events.append(("build", spec.tag))
        for line in self.output.splitlines(keepends=True):
            log(line)
        self.started.set()
        if self.block:
            self._released.wait(30)
            raise BuildStopped("the build was stopped")
        if self.error is not None:
            raise ImageBuildError(self.error)
        if not spec.platforms:
            return BuiltImage(image_id=IMAGE_ID)
        return BuiltImage(image_id=IMAGE_ID, platform_images=tuple(
            (platform, staging_reference(spec.tag, platform)) for platform in spec.platforms))

    def stop(self) -> bool:
        """Record the stop; a builder that can stop ends its blocked build."""
        self.stops += 1
        self.events.append(("stop",))
        if self.can_stop:
            self._released.set()
        return self.can_stop

    def release(self) -> None:
        """End a blocked build as a killed process would."""
        self._released.set()


IMAGE_ID = "sha256:" + "1" * 64


def fake_digest(reference: str) -> str:
    """A digest that differs per reference, as a registry's would."""
    return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()


class FakeImages(ImageStore):
    """An ImageStore recording every call; pushes fail with the scripted messages in turn."""

    def __init__(self, events: Events, *, local: bool = True,
                 push_errors: list[str] | None = None) -> None:
        self.events = events
        self.local = local
        self.push_errors = list(push_errors or [])
        self.auth_configs: list[Mapping[str, str] | None] = []
        self.docker_configs: list[str | None] = []
        self.base_digests: dict[str, str | None] = {}
        self.base_lookups: list[tuple[str, Mapping[str, str] | None]] = []

    def ensure_local(self, reference: str, *, auth_config: Mapping[str, str] | None = None
                     ) -> bool:
        """Whether the previous image is 'there' (as scripted)."""
        self.events.append(("ensure_local", reference))
        return self.local

    def tag(self, image_id: str, reference: str) -> None:
        """Record the tag."""
        self.events.append(("tag", image_id, reference))

    def _fail_if_scripted(self, reference: str) -> None:
        if self.push_errors:
            raise PushError(f"pushing {reference} failed: {self.push_errors.pop(0)}")

    def push(self, reference: str, *, auth_config: Mapping[str, str] | None = None) -> str:
        """Record the push; fail if scripted, else a digest of the reference."""
        self.events.append(("push", reference))
        self.auth_configs.append(auth_config)
        self._fail_if_scripted(reference)
        return fake_digest(reference)

    def push_list(self, platform_images: tuple[tuple[str, str], ...], tags: tuple[str, ...], *,
                  docker_config: str | None) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Record the list push; (a list digest, a digest per platform image)."""
        self.events.append(("push_list", *tags))
        self.docker_configs.append(docker_config)
        self._fail_if_scripted(tags[0])
        return fake_digest("list:" + tags[0]), tuple(
            (platform, fake_digest(reference)) for platform, reference in platform_images)

    def remove(self, references: tuple[str, ...]) -> None:
        """Record the removal."""
        self.events.append(("remove", *references))

    def image_id(self, reference: str) -> str:
        """The image a build hook 'made'."""
        self.events.append(("image_id", reference))
        return IMAGE_ID

    def pushed_digest(self, reference: str) -> str:
        """The digest a push hook 'pushed'."""
        self.events.append(("pushed_digest", reference))
        return fake_digest(reference)

    def pull_bases(self, dockerfile: Path, *, pull: bool, build_args: Mapping[str, str],
                   pull_auths: Mapping[str, tuple[str, str]]) -> bool:
        """Record the registries whose bases would be pulled with credentials."""
        if pull_auths:
            self.events.append(("pull_bases", *sorted(pull_auths)))
        return pull

    def fetch_by_digest(self, repository: str, digest: str, *,
                        auth_config: Mapping[str, str] | None = None) -> str:
        """The reused image, 'pulled'."""
        self.events.append(("fetch_by_digest", f"{repository}@{digest}"))
        return IMAGE_ID

    def base_digest(self, reference: str, *, auth_config: Mapping[str, str] | None = None
                    ) -> str | None:
        """The scripted digest of a base (`base_digests`), else one made of its name."""
        self.base_lookups.append((reference, auth_config))
        return self.base_digests.get(reference, fake_digest("base:" + reference))


class FakeTools(WorkerTools):
    """WorkerTools handing out one FakeCheckout, FakeBuilder and FakeImages, which share
    `events`; `builders` lists the builder names asked for."""

    def __init__(self, *, files: dict[str, str] | None = None, **options: Any) -> None:
        self.events: Events = []
        self.source = FakeCheckout(self.events, files or {"Dockerfile": "FROM scratch\n"},
                                   **options.pop("checkout", {}))
        self.builder_fake = FakeBuilder(self.events, **options.pop("builder", {}))
        self.images_fake = FakeImages(self.events, **options.pop("images", {}))
        self.builders: list[str] = []
        self.engine_down: str | None = options.pop("engine_down", None)
        assert not options, f"unknown options {options}"

    def checkout(self, *, log: Log, git_env: Mapping[str, str]) -> SourceCheckout:
        """The fake checkout, remembering git's environment."""
        self.source.git_env = dict(git_env)
        return self.source

    def builder(self, name: str) -> ImageBuilder:
        """The fake builder, whatever its name (recorded)."""
        self.builders.append(name)
        return self.builder_fake

    def images(self, *, log: Log) -> ImageStore:
        """The fake image store."""
        return self.images_fake

    def engine_problem(self) -> str | None:
        """What `engine_down` says is wrong with the engine (None: it answers)."""
        return self.engine_down


class RecordingManifests:
    """A ManifestClient (service/registry_client.py) answering from `answers` by reference
    (default: unknown, 404) and recording each HEAD with its login."""

    def __init__(self, answers: dict[str, ManifestAnswer] | None = None) -> None:
        self.answers = dict(answers or {})
        self.heads: list[tuple[str, tuple[str, str] | None]] = []

    def head(self, reference: str, *, login: tuple[str, str] | None = None) -> ManifestAnswer:
        """The scripted answer for `reference`."""
        self.heads.append((reference, login))
        return self.answers.get(reference, ManifestAnswer(status=404, message="HTTP 404"))
