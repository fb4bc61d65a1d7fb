"""`rebuild:` on repositories and rules: loaded, merged key by key, and every bad value a load
error naming file, line and field; durations and cron schedules (with time zones) checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.errors import RulesError
from core.rebuild_policy import RebuildPolicy, format_duration, parse_duration
from core.rules_load import load_rules
from core.schedule import last_due, next_run, schedule_problem
from tests.core.test_rules import ENV, HEADER, rules_yaml

RULE = "repositories[0].rules[0]"


def load_error(text: str) -> list[str]:
    with pytest.raises(RulesError) as caught:
        load_rules(text, environ=ENV, filename="rules.yaml")
    return caught.value.errors


def test_a_rule_without_rebuild_rebuilds_on_base_changes_and_is_not_polled() -> None:
    repo = load_rules(rules_yaml("- {source_type: branch, source: main}\n"),
                      environ=ENV).repositories[0]
    policy = repo.rebuild_policy(repo.rules[0])
    assert policy == RebuildPolicy()
    assert (policy.rebuilds_on_base_change, policy.poll_interval, policy.schedule,
            policy.zone) == (True, None, None, "UTC")


def test_the_rules_keys_replace_the_repositorys_one_by_one() -> None:
    text = HEADER + ('    rebuild: {check_every: 6h, schedule: "0 4 * * 1", '
                     'timezone: Europe/Berlin}\n    rules:\n'
                     '      - {source_type: branch, source: main}\n'
                     '      - {source_type: branch, source: dev, rebuild: {check_every: 30m}}\n'
                     '      - {source_type: tag, source: /v.*/, rebuild: '
                     '{on_base_change: false, schedule: "30 2 1 * *"}}\n')
    repo = load_rules(text, environ=ENV).repositories[0]
    main, dev, tags = (repo.rebuild_policy(rule) for rule in repo.rules)
    assert main == RebuildPolicy(None, 6 * 3600, "0 4 * * 1", "Europe/Berlin")
    assert dev == RebuildPolicy(None, 1800, "0 4 * * 1", "Europe/Berlin")
    assert tags == RebuildPolicy(False, 6 * 3600, "30 2 1 * *", "Europe/Berlin")
    assert tags.poll_interval is None and not tags.rebuilds_on_base_change
    assert dev.to_dict() == {"check_every": "30m", "schedule": "0 4 * * 1",
                             "timezone": "Europe/Berlin"}


@pytest.mark.parametrize(("rebuild", "field", "fragment"), [
    pytest.param("{check_every: 6x}", "check_every",
                 "'6x' is not a duration: write 6h, 30m, 1h30m, 90s or 1d", id="bad-unit"),
    pytest.param("{check_every: 0}", "check_every", "must be between 1s and 30d",
                 id="zero-seconds"),
    pytest.param("{check_every: 31d}", "check_every", "must be between 1s and 30d",
                 id="too-long"),
    pytest.param("{check_every: [6h]}", "check_every", "expected a string, got a list",
                 id="not-a-scalar"),
    pytest.param("{on_base_change: false, check_every: 6h}", "check_every",
                 "polls for base image changes, which on_base_change: false turns off",
                 id="polling-without-rebuilds"),
    pytest.param("{on_base_change: sometimes}", "on_base_change",
                 "expected true or false", id="not-a-boolean"),
    pytest.param('{schedule: "0 4 * *"}', "schedule", "a cron expression has five fields",
                 id="four-fields"),
    pytest.param('{schedule: "61 4 * * 1"}', "schedule",
                 "invalid cron expression '61 4 * * 1': Bad minute", id="bad-minute"),
    pytest.param('{schedule: "0 0 30 2 *"}', "schedule",
                 "invalid cron expression '0 0 30 2 *': Bad day-of-month", id="never-runs"),
    pytest.param('{schedule: "@daily"}', "schedule", "a cron expression has five fields",
                 id="macro"),
    pytest.param('{schedule: "0 4 * * 1", timezone: Mars/Olympus}', "timezone",
                 "unknown time zone 'Mars/Olympus' (use an IANA name", id="unknown-zone"),
    pytest.param("{every: 6h}", "", "unknown key 'every' (known: check_every, on_base_change, "
                 "schedule, timezone)", id="unknown-key"),
    pytest.param("[6h]", "", "expected a mapping, got a list", id="not-a-mapping"),
])
def test_bad_rebuild_values_name_file_line_and_field(rebuild: str, field: str,
                                                      fragment: str) -> None:
    body = f"- source_type: branch\n  source: main\n  rebuild: {rebuild}\n"
    errors = load_error(rules_yaml(body))
    where = f"{RULE}.rebuild" + (f".{field}" if field else "")
    assert [e for e in errors if e.startswith(f"rules.yaml:10: {where}: ") and fragment in e], \
        errors


def test_a_repositorys_bad_rebuild_names_the_repository_field() -> None:
    text = HEADER + '    rebuild: {schedule: "0 25 * * *"}\n    rules:\n' \
                    '      - {source_type: branch, source: main}\n'
    assert load_error(text) == ["rules.yaml:7: repositories[0].rebuild.schedule: invalid cron "
                                "expression '0 25 * * *': Bad hour"]


@pytest.mark.parametrize(("text", "seconds"), [
    ("6h", 21600), ("30m", 1800), ("1h30m", 5400), ("90s", 90), ("1d", 86400),
    ("2d12h", 216000), ("3600", 3600), ("", None), ("h", None), ("1.5h", None), ("6H", None),
    ("30m1h", None), ("-5m", None), ("٣m", None),
])
def test_durations(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds
    if seconds:
        assert parse_duration(format_duration(seconds)) == seconds


def test_schedules_run_in_their_time_zone_across_daylight_saving() -> None:
    # Monday 04:00 in Berlin is 03:00 UTC in winter and 02:00 UTC in summer
    winter = datetime(2027, 1, 4, 3, 0, 30, tzinfo=UTC)
    assert last_due("0 4 * * 1", "Europe/Berlin", winter) == datetime(2027, 1, 4, 3, 0,
                                                                      tzinfo=UTC)
    assert next_run("0 4 * * 1", "Europe/Berlin", winter) == datetime(2027, 1, 11, 3, 0,
                                                                      tzinfo=UTC)
    summer = next_run("0 4 * * 1", "Europe/Berlin", datetime(2027, 3, 27, tzinfo=UTC))
    assert summer == datetime(2027, 3, 29, 2, 0, tzinfo=UTC)
    exactly = datetime(2027, 1, 4, 4, 0, tzinfo=UTC)
    assert last_due("0 4 * * 1", "UTC", exactly) == exactly  # a run at `now` is due now
    assert schedule_problem("0 4 * * 1") is None
