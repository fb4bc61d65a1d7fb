"""`autobuild import dockerhub FILE [-o OUT]`: a Docker Hub build-settings export as rules
(file I/O; the conversion is core/dockerhub_export.py and core/dockerhub_rules.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from core.dockerhub_export import read_export
from core.dockerhub_rules import rules_from_export
from core.errors import ExportError


def add_parser(commands: Any) -> None:
    """The `import` command and its `dockerhub` subcommand."""
    imports = commands.add_parser("import", help="turn another service's build settings into "
                                  "rules")
    sources = imports.add_subparsers(dest="import_source", required=True)
    hub = sources.add_parser("dockerhub", help="a Docker Hub build-settings export (JSON)")
    hub.add_argument("file", help="the JSON of /api/build/v1/source/?image=<namespace>/<name>")
    hub.add_argument("-o", "--output", help="write the rules here instead of printing them")
    hub.add_argument("--registry", default="docker.io",
                     help="the registry images are pushed to (default: docker.io)")


def run(args: argparse.Namespace) -> int:
    """Convert the export; print or write the rules, and say which variables to set."""
    try:
        with open(args.file, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        return _fail(f"{args.file}: cannot read it: {exc.strerror or exc}")
    except UnicodeDecodeError:
        return _fail(f"{args.file}: not UTF-8 text; expected Docker Hub's JSON")
    except json.JSONDecodeError as exc:
        return _fail(f"{args.file}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    try:
        imported = rules_from_export(read_export(data), registry=args.registry)
    except ExportError as exc:
        return _fail(f"{args.file}: {exc}")
    if args.output:
        descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(imported.text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(imported.text)
    for where, names in (("the web process (and autobuild rules check)",
                          imported.web_variables), ("the workers", imported.worker_variables)):
        for name, what in names:
            print(f"set {name} for {where}: {what}", file=sys.stderr)
    return 0


def _fail(message: str) -> int:
    print(f"autobuild import dockerhub: {message}", file=sys.stderr)
    return 1
