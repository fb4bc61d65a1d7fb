"""The build log masks every secret: split across writes, in other cases, URL-encoded and in
base64 at any alignment, and in the build's error text."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workers.buildlog import BuildLog

SECRET = "s3cr3t-Tok/en+42"


class MemoryStore:
    """Collects appended log chunks."""

    def __init__(self) -> None:
        self.chunks: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def append_log(self, build_id: str, text: str) -> None:
        self.chunks.append(text)


def logged(*writes: str, secrets: tuple[str, ...] = (SECRET,)) -> MemoryStore:
    store = MemoryStore()
    log = BuildLog(store, "b1", secrets=secrets)  # type: ignore[arg-type]
    for text in writes:
        log(text)
    log.flush()
    return store


def test_a_secret_split_across_writes_is_masked() -> None:
    store = logged("token=s3cr", "3t-Tok", "/en+42 done\n")
    assert store.text == "token=*** done\n"
    assert SECRET[:4] not in "".join(store.chunks)


def test_text_that_only_looks_like_a_start_is_released_at_flush() -> None:
    store = logged("ends with s3c")
    assert store.text == "ends with s3c"


def test_ordinary_lines_are_not_held_back() -> None:
    store = MemoryStore()
    log = BuildLog(store, "b1", secrets=(SECRET,))  # type: ignore[arg-type]
    log("Step 1/3 : FROM busybox\n")
    assert store.text == "Step 1/3 : FROM busybox\n"


@pytest.mark.parametrize("form", [
    pytest.param(SECRET.upper(), id="upper"),
    pytest.param(SECRET.lower(), id="lower"),
    pytest.param(quote(SECRET, safe=""), id="url-encoded"),
    pytest.param(base64.b64encode(SECRET.encode()).decode(), id="base64"),
    pytest.param(base64.urlsafe_b64encode(SECRET.encode()).decode(), id="base64-urlsafe"),
])
def test_other_forms_of_a_secret_are_masked(form: str) -> None:
    assert logged(f"x {form} y\n").text.count("***") >= 1
    assert form not in logged(f"x {form} y\n").text


@given(st.text(max_size=20), st.text(max_size=20))
def test_base64_of_text_around_a_secret_never_shows_it(before: str, after: str) -> None:
    """`echo "$PREFIX$TOKEN$SUFFIX" | base64`: the secret's part is masked at any alignment."""
    encoded = base64.b64encode((before + SECRET + after).encode()).decode()
    text = logged(encoded + "\n").text
    assert "***" in text
    for fragment in text.strip().split("***"):
        for offset in range(4):
            usable = fragment[offset:][: (len(fragment) - offset) // 4 * 4]
            assert SECRET.encode() not in base64.b64decode(usable + "==", validate=False)


def test_the_longest_secret_wins_and_short_values_are_ignored() -> None:
    store = logged("pw=hunter2-extended and hunter2; ab stays\n",
                   secrets=("hunter2", "hunter2-extended", "", "ab"))
    assert store.text == "pw=*** and ***; ab stays\n"
