"""Where webhook intake spends its time: pyinstrument over signed pushes through the whole
path (Flask test client, real Redis, the scenario's database), summed per intake step."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from benchmarks.hooks import PushTemplate, headers, random_commit

STEPS = (
    ("records/deliveries.py", "find_delivery", "dedupe lookup (DB read)"),
    ("records/deliveries.py", "record_delivery", "record delivery + builds (DB transaction)"),
    ("records/tag_history.py", "holding_commit", "already built? (DB reads)"),
    ("service/queueing.py", "enqueue_all", "enqueue build jobs (Redis)"),
    ("service/queueing.py", "enqueue_recorded", "enqueue build + notification jobs (Redis)"),
    ("notify/queue.py", "enqueue", "enqueue notification jobs (Redis)"),
    ("core/signatures.py", "verify_signature", "verify signature"),
    ("core/envelope.py", "open_envelope", "decode JSON"),
    ("core/decision.py", "decide", "match rules (pure)"),
    ("service/extensions.py", "rules", "rules in force (reload check)"),
    ("service/webhooks.py", "receive", "rest of the webhook view"),
)
OTHER = "Flask, Werkzeug and the test client (request, routing, response)"


def step_of(frame: Any) -> str | None:
    path = (frame.file_path or "").replace(os.sep, "/")
    for suffix, function, step in STEPS:
        if path.endswith(suffix) and frame.function == function:
            return step
    return None


def attribute(frame: Any, current: str, totals: dict[str, float]) -> None:
    """Add each frame's own time to the innermost intake step it runs under."""
    step = step_of(frame) or current
    own = frame.time - sum(child.time for child in frame.children)
    totals[step] = totals.get(step, 0.0) + max(own, 0.0)
    for child in frame.children:
        attribute(child, step, totals)


def profile(app: Any, *, repository: str, count: int, out: Path) -> dict[str, Any]:
    """Profile `count` deliveries; per-step milliseconds per delivery, and the full text
    profile written to `out`."""
    from pyinstrument import Profiler

    client = app.test_client()
    template = PushTemplate.for_repository(repository)
    signed = [(body, headers(body)) for body in
              (template.body(random_commit()) for _ in range(count + 20))]
    for body, sent in signed[:20]:  # warm-up: imports, caches, connections
        client.post("/hooks/github", data=body, headers=sent)
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for body, sent in signed[20:]:
        answer = client.post("/hooks/github", data=body, headers=sent)
        if answer.status_code != 202:
            raise RuntimeError(f"profiled delivery answered {answer.status_code}")
    session = profiler.stop()
    out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    totals: dict[str, float] = {}
    root = session.root_frame()
    if root is not None:
        attribute(root, OTHER, totals)
    return {step: round(seconds * 1000 / count, 3)
            for step, seconds in sorted(totals.items(), key=lambda item: -item[1])
            if seconds * 1000 / count >= 0.005}
