"""Signed GitHub push deliveries as GitHub sends them (a real 8.5 KB payload shape), each for a
commit of our choosing, and the rules file that makes each one match exactly one rule."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from benchmarks.suite import ROOT
from core.signatures import sign_github

SECRET = "bench-webhook-secret"
SAMPLE = ROOT / "tests" / "samples" / "webhooks" / "github" / "push-branch.json"
MARK = "0123456789abcdef0123456789abcdef01234567"


@dataclass(frozen=True)
class PushTemplate:
    """A push payload split around its new commit id, so a body for any commit is a join."""

    parts: tuple[str, ...]

    @classmethod
    def for_repository(cls, name: str, *, ref: str = "refs/heads/main",
                       before: str | None = None, files: tuple[str, ...] = ("app.txt",)
                       ) -> PushTemplate:
        payload = json.loads(SAMPLE.read_text())
        payload["ref"] = ref
        payload["repository"]["full_name"] = name
        payload["before"] = before or payload["before"]
        payload["after"] = MARK
        payload["head_commit"].update(id=MARK, message="bench: change")
        payload["commits"] = [dict(payload["head_commit"], added=[], removed=[],
                                   modified=list(files))]
        return cls(tuple(json.dumps(payload, separators=(",", ":")).split(MARK)))

    def body(self, commit: str) -> bytes:
        return commit.join(self.parts).encode()


def random_commit() -> str:
    return secrets.token_hex(20)


def headers(body: bytes, *, delivery: str | None = None) -> dict[str, str]:
    return {"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery or uuid.uuid4().hex,
            "Content-Type": "application/json", "X-Hub-Signature-256": sign_github(body, SECRET)}


def post_push(session: requests.Session, port: int, template: PushTemplate,
              commit: str) -> requests.Response:
    """POST one signed push of `commit` to the web process on `port`."""
    body = template.body(commit)
    return session.post(f"http://127.0.0.1:{port}/hooks/github", data=body,
                        headers=headers(body), timeout=30)


def write_deliveries(path: Path, template: PushTemplate, count: int) -> None:
    """`count` lines of "delivery-id signature commit" for the load generator's script."""
    with open(path, "w", encoding="ascii") as out:
        for _ in range(count):
            commit = random_commit()
            out.write(f"{uuid.uuid4().hex} {sign_github(template.body(commit), SECRET)} "
                      f"{commit}\n")


def repository_entry(name: str, clone_url: str, image: str, *, builder: str = "buildkit",
                     tag: str = "latest") -> str:
    """One rules-file entry: branch main → `tag`."""
    return (f"  - name: {name}\n    provider: github\n    clone_url: {clone_url}\n"
            f"    secret: {SECRET}\n    image: {image}\n    rules:\n"
            f"      - {{source_type: branch, source: main, tag: {tag}, builder: {builder}}}\n")


def write_rules(path: Path, entries: list[str]) -> Path:
    path.write_text("repositories:\n" + "".join(entries))
    return path
