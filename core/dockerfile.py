"""The base images a Dockerfile's FROM lines name (no I/O).

Enough of the Dockerfile grammar to know which images a build pulls: line continuations,
comments, `FROM [--platform=…] image [AS name]`, and `${ARG}`/`$ARG` from the ARGs before the
first FROM (with their defaults, overridden by the build's arguments). Stage names and
`scratch` are not images; a FROM whose image still holds an unknown `$` is left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ARG = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, its arguments) of each instruction, continuation lines joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def _substitute(value: str, args: Mapping[str, str]) -> str:
    return _ARG.sub(lambda m: args.get(m.group(1) or m.group(2), m.group(0)), value)


def base_images(text: str, build_args: Mapping[str, str] | None = None) -> list[str]:
    """The image references the Dockerfile's stages start from, in order, each once."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    images: list[str] = []
    seen_from = False
    for word, rest in instructions(text):
        if word == "ARG" and not seen_from:
            name, _, default = rest.partition("=")
            name = name.strip()
            value = (build_args or {}).get(name, default.strip().strip("\"'"))
            args[name] = value
        elif word == "FROM":
            seen_from = True
            parts = [p for p in rest.split() if not p.startswith("--")]
            if not parts:
                continue
            image = _substitute(parts[0], args)
            if image.lower() not in stages and image != "scratch" and "$" not in image:
                images += [] if image in images else [image]
            if len(parts) >= 3 and parts[1].upper() == "AS":
                stages.add(parts[2].lower())
    return images
