"""The people who may log in to the pages: users from configuration, passwords stored hashed.

Where users come from (all are merged; a later source wins for the same name):
- AUTOBUILD_USERS="alice:<hash>,bob:<hash>" (app.config["USERS_TEXT"])
- the file named by AUTOBUILD_USERS_FILE (app.config["USERS_FILE"]), one `user:hash` a line
  (blank lines and # comments are skipped); it is read at every login, so edits apply at once
- app.config["USERS"], a mapping of name to hash (tests)

A hash is werkzeug's (scrypt or pbkdf2, e.g. "scrypt:32768:8:1$salt$hex"); make one with

    python -c "from werkzeug.security import generate_password_hash as h; print(h('pw'))"

Hashes contain ':' and '$' but never ',' so the list splits on ',' and each entry on its first
':'. Remember to quote the value in shell files: '$' is special there.

The API token still logs in, as the user "admin" (see service/session_views.py).
"""

from __future__ import annotations

import logging

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

logger = logging.getLogger(__name__)
_DUMMY_HASH = generate_password_hash("autobuild-no-such-user")


def parse_users(text: str, *, separator: str = ",") -> dict[str, str]:
    """{user: hash} from "user:hash" entries split by `separator`; bad entries are logged."""
    users: dict[str, str] = {}
    for raw in text.split(separator):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        name, sep, hashed = entry.partition(":")
        name, hashed = name.strip(), hashed.strip()
        if not sep or not name or "$" not in hashed:
            logger.warning("ignoring a users entry that is not user:<werkzeug hash>: %r",
                           name or entry[:20])
            continue
        users[name] = hashed
    return users


def load_users(text: str, path: str) -> dict[str, str]:
    """Users from AUTOBUILD_USERS's `text` and the file at `path` (when set)."""
    users = parse_users(text)
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                users.update(parse_users(handle.read(), separator="\n"))
        except OSError as exc:
            logger.error("cannot read AUTOBUILD_USERS_FILE %s: %s", path, exc)
    return users


def configured_users() -> dict[str, str]:
    """Every user of the current app (read afresh, so edits apply without a restart)."""
    config = current_app.config
    users = load_users(str(config.get("USERS_TEXT") or ""), str(config.get("USERS_FILE") or ""))
    users.update(current_app.config.get("USERS") or {})
    return users


def check_user(name: str, password: str) -> bool:
    """Whether `password` is `name`'s; unknown names cost the same time as known ones."""
    hashed = configured_users().get(name)
    if not password:
        return False
    if hashed is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    try:
        return check_password_hash(hashed, password)
    except (ValueError, TypeError):
        logger.error("the password hash of user %r is not a werkzeug hash", name)
        return False
