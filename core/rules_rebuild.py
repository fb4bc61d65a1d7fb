"""Reading a repository's or rule's `rebuild:` key into a RebuildPolicy (no I/O).

`rebuild: {on_base_change: true, check_every: 6h, schedule: "0 4 * * 1", timezone: UTC}`;
durations and cron expressions are checked here, so a bad one is a load error naming the file,
line and field (`rules.yaml:9: repositories[0].rebuild.schedule: invalid cron expression …`).
"""

from __future__ import annotations

import yaml

from core.rebuild_policy import RebuildPolicy, duration_problem, parse_duration
from core.rules_yaml import Reader
from core.schedule import UTC_NAME, schedule_problem, zone_problem

REBUILD_KEYS = frozenset({"on_base_change", "check_every", "schedule", "timezone"})
Fields = dict[str, yaml.Node]


def rebuild_policy(reader: Reader, f: Fields, path: str) -> RebuildPolicy | None:
    """The `rebuild:` of a repository or rule, or None when it has none (or errors)."""
    node = f.get("rebuild")
    if node is None:
        return None
    where = f"{path}.rebuild"
    before = reader.count()
    keys = reader.mapping(node, where, REBUILD_KEYS)
    on_change = (reader.boolean(keys["on_base_change"], f"{where}.on_base_change", True)
                 if "on_base_change" in keys else None)
    check_every = _interval(reader, keys.get("check_every"), f"{where}.check_every")
    if check_every is not None and on_change is False:
        reader.error(keys["check_every"], f"{where}.check_every", "polls for base image "
                     "changes, which on_base_change: false turns off; remove one of them")
    zone = reader.string(keys.get("timezone"), f"{where}.timezone")
    if zone is not None and (problem := zone_problem(zone)):
        reader.error(keys["timezone"], f"{where}.timezone", problem)
    schedule = reader.string(keys.get("schedule"), f"{where}.schedule")
    if schedule is not None:
        usable = zone if zone is not None and zone_problem(zone) is None else UTC_NAME
        if problem := schedule_problem(schedule, usable):
            reader.error(keys["schedule"], f"{where}.schedule", problem)
    if reader.count() > before:
        return None
    return RebuildPolicy(on_base_change=on_change, check_every=check_every,
                         schedule=schedule.strip() if schedule else None, timezone=zone)


def _interval(reader: Reader, node: yaml.Node | None, path: str) -> int | None:
    """A check_every duration in seconds (`6h`, `30m`, `1h30m`, `90s`, or seconds)."""
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int":
        value = reader.integer(node, path, 0)
        seconds = value if value is not None else None
    else:
        text = reader.string(node, path)
        seconds = parse_duration(text) if text is not None else None
        if text is not None and seconds is None:
            reader.error(node, path, f"{text!r} is not a duration: write 6h, 30m, 1h30m, 90s "
                         "or 1d")
            return None
    if seconds is not None and (problem := duration_problem(seconds)):
        reader.error(node, path, problem)
        return None
    return seconds
