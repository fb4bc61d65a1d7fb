"""`autobuild rules check` and `autobuild rules explain` on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import main

ROOT = Path(__file__).resolve().parents[1]
VALID = """repositories:
  - name: acme/webapp
    provider: github
    clone_url: https://github.com/acme/webapp.git
    secret: s3cret
    image: registry.example.com/acme/webapp
    rules:
      - source_type: branch
        source: main
        tag: latest
      - source_type: tag
        source: /^v([0-9.]+)$/
        tag: "v{\\\\1},latest"
"""


def test_check_accepts_a_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(VALID)
    assert main(["rules", "check", str(path)]) == 0
    assert "OK (1 repositories, 2 rules)" in capsys.readouterr().out


def test_check_lists_every_error_with_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(VALID.replace("source: main", "source: /[unclosed/").replace(
        "context", "x").replace("tag: latest", "tag: latest\n        context: ../..", 1))
    assert main(["rules", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:9: repositories[0].rules[0].source: invalid regex" in err
    assert "repositories[0].rules[0].context" in err and ".." in err


def test_example_rules_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOBUILD_DEMO_DIR", "/srv/demo")
    monkeypatch.setenv("AUTOBUILD_DEMO_SECRET", "demo-secret")
    assert main(["rules", "check", str(ROOT / "build_rules.example.yaml")]) == 0


def test_explain_says_what_each_rule_does(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(VALID)
    assert main(["rules", "explain", str(path), "--repository", "acme/webapp",
                 "refs/tags/v1.2.3"]) == 0
    out = capsys.readouterr().out
    assert "[builds]" in out and "registry.example.com/acme/webapp:v1.2.3" in out
    assert "[no build]" in out and "source_type is branch" in out


def test_explain_unknown_repository_fails(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(VALID)
    assert main(["rules", "explain", str(path), "--repository", "nobody/x", "main"]) == 1
    assert "nobody/x" in capsys.readouterr().err


def test_explain_says_which_builder_each_building_rule_uses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rules.yaml"
    tag_line = '        tag: "v{\\\\1},latest"\n'
    path.write_text(VALID.replace(tag_line, tag_line + "        builder: buildkit\n"
                                  "        platforms: [linux/amd64, linux/arm64]\n"
                                  "        secrets: {npmrc: {file: /etc/autobuild/npmrc}}\n"))
    monkeypatch.setenv("AUTOBUILD_BUILDER", "classic")
    assert main(["rules", "explain", str(path), "--repository", "acme/webapp", "v1.2.3"]) == 0
    tag_ref = capsys.readouterr().out.split("refs/tags/v1.2.3:")[1]
    assert "builder buildkit; platforms linux/amd64, linux/arm64; secrets npmrc" in tag_ref
    assert main(["rules", "explain", str(path), "--repository", "acme/webapp", "main"]) == 0
    assert "builder classic" in capsys.readouterr().out.split("refs/tags/main:")[0]


def test_an_unusable_builder_setting_is_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(VALID)
    monkeypatch.setenv("AUTOBUILD_BUILDER", "kaniko")
    assert main(["rules", "check", str(path)]) == 1
    assert "AUTOBUILD_BUILDER: unknown builder 'kaniko'" in capsys.readouterr().err
