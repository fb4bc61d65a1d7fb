"""The build log writer: output reaches the database as it is printed, secrets masked.

Each secret is masked as written and in the forms a build script turns it into: upper and
lower case, URL-encoded, and base64 (at each of the three alignments it can have inside a
longer encoded text). A secret split across two writes is still masked: the end of a write
that could begin a secret is held back until the next write (or the final `flush`) shows the
rest.

With an `interval`, output is gathered and written at most that often (and at once by flush()):
a BuildKit build prints a line per event, and one database transaction per line would cost more
than the build itself, while the build page still follows the log live.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from core.credentials import MIN_SECRET_LENGTH
from records.builds import BuildStore

MASK = "***"
FLUSH_INTERVAL = 0.2
"""Seconds output may wait before it is written, for logs that gather it."""
_DROP_LEADING = (0, 2, 3)  # base64 characters that still depend on bytes before the secret


def _base64_forms(secret: bytes) -> set[str]:
    """The base64 text of `secret` that does not depend on its neighbours, at each alignment."""
    forms = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret).decode("ascii").rstrip("=")
        encoded = encoded[_DROP_LEADING[shift]:]
        if (shift + len(secret)) % 3:
            encoded = encoded[:-1]  # the last character also holds bits of the next byte
        for text in (encoded, encoded.replace("+", "-").replace("/", "_")):
            forms.add(text)
    return forms


def masked_forms(secret: str) -> set[str]:
    """Every form of `secret` to mask (at least MIN_SECRET_LENGTH characters each)."""
    forms = {secret, secret.upper(), secret.lower(), quote(secret, safe=""), quote_plus(secret)}
    forms |= _base64_forms(secret.encode("utf-8"))
    return {form for form in forms if len(form) >= max(MIN_SECRET_LENGTH, 4) or form == secret}


class BuildLog:
    """Appends build output to the store; every known secret, in every form, becomes ***."""

    def __init__(self, store: BuildStore, build_id: str, *, secrets: Iterable[str] = (),
                 interval: float = 0.0) -> None:
        self.store = store
        self.build_id = build_id
        values = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        forms: set[str] = set().union(*(masked_forms(v) for v in values)) if values else set()
        self.secrets = sorted(forms, key=len, reverse=True)
        self.interval = interval
        self._lock = threading.Lock()  # the build, its watchdog and the flush timer all write
        self._gathered: list[str] = []
        self._held = ""
        self._timer: threading.Timer | None = None

    def mask(self, text: str) -> str:
        """Text with every secret replaced by ***."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def _held_back(self, text: str) -> int:
        """How many characters at the end of `text` could be the start of a secret."""
        longest = 0
        for secret in self.secrets:
            for size in range(min(len(secret) - 1, len(text)), longest, -1):
                if secret.startswith(text[-size:]):
                    longest = size
                    break
        return longest

    def _write(self, text: str, *, final: bool) -> None:
        """Mask and write `text` after what was held back (the caller holds the lock)."""
        combined = self.mask(self._held + text)
        keep = 0 if final else self._held_back(combined)
        self._held = combined[len(combined) - keep:] if keep else ""
        ready = combined[: len(combined) - keep]
        if ready:
            self.store.append_log(self.build_id, ready)

    def __call__(self, text: str) -> None:
        with self._lock:
            if not self.interval:
                self._write(text, final=False)
                return
            self._gathered.append(text)
            if self._timer is None:
                self._timer = threading.Timer(self.interval, self._flush_gathered)
                self._timer.daemon = True
                self._timer.start()

    def _flush_gathered(self) -> None:
        """Write what was gathered, still holding back a possible start of a secret."""
        with self._lock:
            self._timer = None
            text, self._gathered = "".join(self._gathered), []
            if text:
                self._write(text, final=False)

    def flush(self) -> None:
        """Write everything, held back or gathered (before a status change, at the end)."""
        with self._lock:  # held while writing, so that writes keep their order
            timer, self._timer = self._timer, None
            if timer is not None:
                timer.cancel()
            text, self._gathered = "".join(self._gathered), []
            self._write(text, final=True)
