"""The exception tree of the pure layer (no I/O).

    AutobuildError
    ├── HookError                 a delivery we refuse (mapped to HTTP in service/webhooks.py)
    │   ├── SignatureError        401: missing, malformed or wrong signature
    │   └── PayloadError          400: not JSON, or required fields missing
    ├── TriggerBodyError          400/413: a trigger URL's body we cannot read (.status)
    ├── ExportError               a Docker Hub build-settings export we cannot import
    ├── RulesError                the rules file is invalid; .errors lists every problem
    ├── SecretUnavailableError    a secret's variable is unset or its file unreadable
    └── BuildError                a build failed; .phase and .user_message say where and why
        ├── CloneError
        ├── ImageBuildError
        └── PushError
"""

from __future__ import annotations


class AutobuildError(Exception):
    """Base of every error Autobuild raises on purpose."""


class HookError(AutobuildError):
    """A webhook delivery that is refused; `status` is the HTTP answer."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignatureError(HookError):
    """The delivery is not signed with a secret we know."""

    status = 401


class PayloadError(HookError):
    """The body is not what the forge sends: not JSON or missing fields."""

    status = 400


class TriggerBodyError(AutobuildError):
    """A Docker Hub trigger call whose body we cannot read; `status` is the HTTP answer."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ExportError(AutobuildError):
    """A Docker Hub build-settings export that cannot be imported; the message names the
    field, with the object's index (`objects[1].build_settings[0].source_type: …`)."""


class RulesError(AutobuildError):
    """The rules file is invalid; every problem found is in `errors`, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class SecretUnavailableError(AutobuildError):
    """A secret's variable is not set or its file cannot be read; the message names the
    reference (`${NAME}`, `file /path`) and what the secret is for, never a value."""


class BuildError(AutobuildError):
    """A build failed in `phase`; `user_message` is what the status page shows."""

    phase = "build"

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class CloneError(BuildError):
    """Fetching or checking out the commit failed."""

    phase = "cloning"


class ImageBuildError(BuildError):
    """The Docker build failed."""

    phase = "building"


class PushError(BuildError):
    """Pushing a tag to the registry failed."""

    phase = "pushing"
