"""Memory and CPU limits of a build: their spelling in rules and settings, and their meaning
(no I/O).

`memory` is a size as Docker writes it: bytes, or a number with b, k, m or g (binary: 1k =
1024 bytes), at least 6m as the engine requires. `cpus` is a number of CPUs such as 1.5 (kept
as thousandths). A rule's own limit wins over the worker's default (AUTOBUILD_BUILD_MEMORY,
AUTOBUILD_BUILD_CPUS); neither means no limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_MEMORY = 6 * 1024 * 1024
"""The engine refuses a smaller memory limit for a container."""
MAX_MEMORY = 1024 ** 5
MAX_MILLICPUS = 1024 * 1000
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
_MEMORY = re.compile(r"(\d{1,15})\s*([bkmg]?)", re.ASCII | re.IGNORECASE)
_CPUS = re.compile(r"(\d{1,4})(?:\.(\d{1,3}))?", re.ASCII)


def parse_memory(text: str) -> int:
    """Bytes of a memory size such as 512m or 2g; ValueError saying what is wrong."""
    found = _MEMORY.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a memory size (e.g. 512m or 2g: a whole number of "
                         "bytes, or with b, k, m or g)")
    value = int(found.group(1)) * _UNITS[found.group(2).lower()]
    if value < MIN_MEMORY:
        raise ValueError(f"{text!r} is below the engine's minimum of 6m")
    if value > MAX_MEMORY:
        raise ValueError(f"{text!r} is more than any machine has (at most 1048576g)")
    return value


def parse_cpus(text: str) -> int:
    """Thousandths of a CPU of a count such as 1.5; ValueError saying what is wrong."""
    found = _CPUS.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a number of CPUs (e.g. 1 or 1.5)")
    millis = int(found.group(1)) * 1000 + int((found.group(2) or "0").ljust(3, "0"))
    if not 10 <= millis <= MAX_MILLICPUS:
        raise ValueError(f"{text!r} must be at least 0.01 and at most {MAX_MILLICPUS // 1000}")
    return millis


def memory_words(size: int) -> str:
    """'512 MiB', '2 GiB', '7340032 bytes': a size for people."""
    for unit, factor in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def cpus_words(millis: int) -> str:
    """'1.5 CPUs', '1 CPU'."""
    count = f"{millis / 1000:g}"
    return f"{count} CPU" + ("" if millis == 1000 else "s")


@dataclass(frozen=True)
class BuildLimits:
    """The limits one build runs with (None: unlimited)."""

    memory: int | None = None
    millicpus: int | None = None

    def __bool__(self) -> bool:
        return self.memory is not None or self.millicpus is not None

    def over(self, defaults: BuildLimits) -> BuildLimits:
        """These limits, each missing one taken from `defaults`."""
        return BuildLimits(self.memory if self.memory is not None else defaults.memory,
                           self.millicpus if self.millicpus is not None else defaults.millicpus)

    def describe(self) -> str:
        """'memory 512 MiB, 1.5 CPUs', or 'none'."""
        parts = []
        if self.memory is not None:
            parts.append(f"memory {memory_words(self.memory)}")
        if self.millicpus is not None:
            parts.append(cpus_words(self.millicpus))
        return ", ".join(parts) or "none"


NO_LIMITS = BuildLimits()
