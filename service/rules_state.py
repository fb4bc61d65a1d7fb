"""The rules in force for the web process, reloaded when the file changes (file I/O)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping

from core import defaults
from core.errors import RulesError
from core.rules import RuleSet
from core.rules_load import load_rules

logger = logging.getLogger(__name__)
CHECK_INTERVAL = 1.0


def read_rules_file(path: str, *, environ: Mapping[str, str],
                    builder: str = defaults.BUILDER) -> RuleSet:
    """The rule set in the file at `path` (`builder` for rules naming none); an unreadable file
    is a RulesError too."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([f"{path}: cannot read the rules file: {exc}"]) from exc
    return load_rules(text, environ=environ, filename=path, builder=builder)


FileVersion = tuple[int, int, int, int]
"""What tells a rules file changed: (device, inode, size, mtime in ns)."""


class RulesHolder:
    """The last valid RuleSet; a changed file is loaded, an invalid one keeps the old rules.

    A change is any new inode, size or modification time, so a file replaced by a rename or a
    symlink swap (configuration management, Kubernetes ConfigMaps), or copied with its old
    modification time kept (`cp -p`, `rsync -t`), is picked up by every web process."""

    def __init__(self, path: str, *, environ: Mapping[str, str],
                 builder: str = defaults.BUILDER) -> None:
        self.path = path
        self.environ = environ
        self.builder = builder
        self._lock = threading.Lock()
        self._checked = 0.0
        self._version = self._stat()
        self._rules = read_rules_file(path, environ=environ, builder=builder)  # fail fast
        self._error: str | None = None

    def _stat(self) -> FileVersion | None:
        try:
            found = os.stat(self.path)
        except OSError:
            return None
        return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)

    @property
    def rules(self) -> RuleSet:
        """The rules in force, after picking up a changed file."""
        self._refresh()
        return self._rules

    @property
    def error(self) -> str | None:
        """Why the changed file was not loaded (None while the file in force is the newest)."""
        self._refresh()
        return self._error

    def _refresh(self) -> None:
        """Reload when the file changed; checked at most once a second."""
        now = time.monotonic()
        if now - self._checked >= CHECK_INTERVAL:
            with self._lock:
                self._checked = now
                version = self._stat()
                if version != self._version:
                    self._version = version
                    self._reload()

    def _reload(self) -> None:
        try:
            self._rules = read_rules_file(self.path, environ=self.environ, builder=self.builder)
        except RulesError as exc:
            self._error = str(exc)
            logger.error("rules file %s is invalid; keeping the previous rules:\n%s",
                         self.path, exc)
            return
        self._error = None
        logger.info("reloaded rules from %s", self.path)
