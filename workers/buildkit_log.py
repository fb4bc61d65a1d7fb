"""Reading BuildKit's plain progress output: which step failed, and a short human message why.

The engine's BuildKit (moby 20.10) prints, and newer ones print much the same:

    #5 [2/2] RUN false                          a step's name: the first line of its number
    #5 0.054 some output                        its output (seconds since it started)
    #5 ERROR: executor failed running [/bin/sh -c false]: exit code: 1
    ------                                      an excerpt of the failing step, between
     > [2/2] RUN false:                         dashed lines
    ------
    executor failed running [/bin/sh -c false]: exit code: 1      the final error line
                                                (also `failed to solve with frontend
                                                dockerfile.v0: …`, `error: failed to solve: …`)

A `--cache-from` image that is not in the registry yet (a rule's first build) prints
`#N importing cache manifest from …` with an ERROR line and an excerpt, and the build goes on:
those are warnings, never the cause. No I/O: ProgressParser is fed the lines as printed.
"""

from __future__ import annotations

import re

MAX_MESSAGE = 300
_STEP = re.compile(r"#(\d+) (.*)")
_STATUS = re.compile(r"sha256:[0-9a-f]{64}|DONE [0-9.]+s|CACHED|CANCELED|ERROR(: .*)?|\d+\.\d+ .*")
_EXCERPT_RULE = re.compile(r"-{6,}")
_EXCERPT_STEP = re.compile(r" > (.+):$")
_NOISE = re.compile(r"(Dockerfile:\d+|WARNING: .*|View build details: .*)")
_PREFIXES = re.compile(
    r"^(error: |ERROR: |rpc error: code = \w+ desc = |failed to solve with frontend [\w.]+: |"
    r"failed to solve: |failed to create LLB definition: |failed to compute cache key: |"
    r"failed to calculate checksum of ref [^:]+:[^:]+: )+")
_REQUEST = re.compile(r'failed to do request: \w+ "[^"]*": ')
_NOT_IN_CONTEXT = re.compile(r'^"/?([^"]*)"(?: not found)?: not found$')
_COPY_FROM = re.compile(r"--from=(\S+)")
_LOAD_METADATA = "[internal] load metadata for "
_RESOLVE_FRONTEND = "resolve image config for "
CACHE_IMPORT = "importing cache manifest from "


class ProgressParser:
    """Remembers step names, the first failing step and the last error line of one build."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.failed: tuple[str, str] | None = None   # (step number, its ERROR message)
        self.excerpt_step: str | None = None
        self.last_line: str | None = None
        self._in_excerpt = False

    def feed(self, line: str) -> None:
        """Take one printed line (with or without its newline)."""
        line = line.rstrip("\r\n")
        if _EXCERPT_RULE.fullmatch(line):
            self._in_excerpt = not self._in_excerpt
            return
        if self._in_excerpt:
            step = _EXCERPT_STEP.match(line)
            if step and self.excerpt_step is None and not step.group(1).startswith(CACHE_IMPORT):
                self.excerpt_step = step.group(1)
            return
        step = _STEP.fullmatch(line)
        if step:
            number, text = step.groups()
            if text.startswith("ERROR: ") and self.failed is None:
                message = text[len("ERROR: "):].strip()
                warning = self.names.get(number, "").startswith(CACHE_IMPORT)
                if message != "context canceled" and not warning:
                    self.failed = (number, message)
            elif number not in self.names and not _STATUS.fullmatch(text):
                self.names[number] = text.strip()
            return
        if line.strip() and not _NOISE.fullmatch(line.strip()):
            self.last_line = line.strip()

    def step_name(self) -> str | None:
        """The name of the step that failed, when one did."""
        if self.failed is not None and self.failed[0] in self.names:
            return self.names[self.failed[0]]
        return self.excerpt_step

    def error_message(self, exit_code: int) -> str:
        """One short line naming the failing step and why it failed."""
        step = self.step_name()
        if self.failed is not None:
            detail = self.failed[1]
        elif self.last_line is not None:
            detail = self.last_line
        else:
            return f"docker build exited with code {exit_code} and printed no error"
        return shorten(describe(step, detail))


def clean(detail: str) -> str:
    """An error text without BuildKit's wrapping prefixes and request noise."""
    return _REQUEST.sub("", _PREFIXES.sub("", detail.strip()))


def describe(step: str | None, detail: str) -> str:
    """The human message for a failing step (None: no step) and its error text."""
    detail = clean(detail)
    if step is not None and step.startswith(_RESOLVE_FRONTEND):
        image = step[len(_RESOLVE_FRONTEND):].removeprefix("docker-image://")
        return (f"the Dockerfile's # syntax= line needs the frontend image "
                f"{image.removeprefix('docker.io/')}, which could not be pulled: {detail}")
    if step is not None and step.startswith(_LOAD_METADATA):
        image = step[len(_LOAD_METADATA):]
        if detail.endswith(": not found"):
            return f"base image {image} not found in its registry"
        return f"base image {image} is not on this engine and could not be pulled: {detail}"
    missing = _NOT_IN_CONTEXT.match(detail)
    if missing:
        source = _COPY_FROM.search(step or "")
        path = missing.group(1) or "."
        detail = (f"/{path} is not in {source.group(1)}" if source else
                  f"{path} is not in the build context (or .dockerignore excludes it)")
    if detail.startswith("failed to read dockerfile") and "no such file" in detail:
        return "Dockerfile not found in the build context"
    if step is None:
        return detail
    return f"{shorten(step, 120)}: {detail}"


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
