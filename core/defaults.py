"""Every default value in one place: rules, settings and the limits both processes share (no I/O).

A rule field left out of the rules file, a setting left out of the environment, and a plan
read back from an older record all take their value from here, so the three never disagree.
"""

from __future__ import annotations

# --- rule fields (Docker Hub's defaults where Docker Hub has the field) ------------------------

TAG_TEMPLATE = "{sourceref}"
"""The Docker tag template of a rule without `tag`: the branch or tag name itself."""

DOCKERFILE = "Dockerfile"
"""The Dockerfile path, relative to the build context."""

CONTEXT = "/"
"""The build context, from the repository root ("/" is the root, as on Docker Hub)."""

AUTOBUILD = True
CACHE = True
PULL = False
SUBMODULES = False
LFS = False
HOOKS = False

BUILD_TIMEOUT = 3600
"""Seconds a build may run before it ends `timed_out`."""

BUILDER = "buildkit"
"""The builder of a rule without `builder` (AUTOBUILD_BUILDER changes it): BuildKit, as Docker
Hub builds; `classic` is the engine's legacy builder."""

LEGACY_PLAN_BUILDER = "classic"
"""The builder of a plan stored before plans named one: the only builder there was then."""

DEFAULT_BRANCHES = ("main", "master")
"""A repository without `rules` builds these branches as `latest`, as Docker Hub does."""

# --- limits and endpoints the web process and the workers share --------------------------------

MAX_BODY_BYTES = 25 * 1024 * 1024
"""The largest webhook body accepted (GitHub's own limit for deliveries)."""

LOG_CAP_BYTES = 64 * 1024 * 1024
"""Where a build log stops, with a truncation marker (Docker Hub's builder cut at 64 MiB)."""

GIT_TIMEOUT = 600
ENGINE_TIMEOUT = 300
BUILDKIT_CGROUP = "docker/buildkit"
"""Where the engine's built-in BuildKit runs RUN steps (dockerd with the cgroupfs driver)."""
"""Seconds docker-py waits for the engine to say anything (a push or classic build included)."""
LS_REMOTE_TIMEOUT = 30

REDIS_URL = "redis://127.0.0.1:6379/0"
QUEUE_NAME = "builds"
NOTIFY_QUEUE_NAME = "notifications"
"""The queue the notifier (`python -m workers --queue notifications`) sends from."""

NOTIFY_BACKOFF = 10
"""Seconds before a notification's first retry; each later one waits 3 times longer."""

STREAMS_PER_PROCESS = 8
"""Live-log streams one web process serves at once; each holds one of its threads (the
Procfile gives each process 32), so the rest stay free for webhooks and pages."""

BUILD_NETWORK = "default"
"""The network RUN steps get (AUTOBUILD_BUILD_NETWORK): the engine's default, `none` or `host`."""

RETENTION_DAYS = 90
"""Days `autobuild gc` keeps the logs of builds that ended (AUTOBUILD_RETENTION_DAYS; 0 keeps
them forever); the builds themselves are kept."""

DOCKER_HOST = "unix:///var/run/docker.sock"
"""The Docker engine workers build with, as DOCKER_HOST spells it."""

SCHEDULER_INTERVAL = 15
"""Seconds between two rounds of the scheduler (registry polling and rebuild schedules)."""
