"""Reading a Docker Hub build-settings export into typed values (no I/O).

The export is the JSON Docker Hub's build API answers for an image's source
(`GET /api/build/v1/source/?image=<namespace>/<name>`): one source object, or `{"objects": [...]}`.
A source carries `provider`, `owner`, `repository`, `envvars`, `autotests`, `repo_links` and
`build_settings`, each build setting `source_type`, `source_name`, `tag`, `dockerfile`,
`build_context`, `autobuild` and `nocache`. Every problem raises ExportError naming the field
with the object's index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ExportError
from core.events import RefKind

PROVIDERS = {"github": "github", "bitbucket": "bitbucket"}
"""Docker Hub's providers (spelled Github, GitHub, Bitbucket…) and ours."""


@dataclass(frozen=True)
class HubBuildSetting:
    """One Docker Hub build rule, as exported."""

    source_type: RefKind
    source_name: str
    tag: str
    dockerfile: str
    build_context: str
    autobuild: bool
    nocache: bool


@dataclass(frozen=True)
class HubSource:
    """One Docker Hub source: the forge repository, the image, and its build settings."""

    where: str  # "objects[1]", or "" for an export that is one object
    provider: str
    owner: str
    repository: str
    image: str | None
    envvars: tuple[tuple[str, str], ...]
    autotests: str
    repo_links: bool
    build_settings: tuple[HubBuildSetting, ...]


def _field(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


_WANTED = {str: "a string", bool: "true or false", list: "a list"}


def _get(data: Mapping[str, Any], where: str, name: str, kind: type, default: Any = None, *,
         required: bool = False) -> Any:
    """`data[name]` when it has the type `kind`; the default when absent (or null)."""
    value = data.get(name)
    if value is None:
        if required:
            raise ExportError(f"{_field(where, name)}: is missing")
        return default
    if not isinstance(value, kind):
        raise ExportError(f"{_field(where, name)}: expected {_WANTED[kind]}, got "
                          f"{type(value).__name__} {str(value)[:40]!r}")
    return value


def _text(data: Mapping[str, Any], where: str, name: str) -> str:
    """A required, non-empty string field."""
    value: str = _get(data, where, name, str, required=True)
    if not value.strip():
        raise ExportError(f"{_field(where, name)}: must not be empty")
    return value.strip()


def read_export(data: Any) -> tuple[HubSource, ...]:
    """The sources of an export (parsed JSON): one object, or its `objects` list."""
    if isinstance(data, dict) and "objects" in data:
        objects = _get(data, "", "objects", list, required=True)
        if not objects:
            raise ExportError("objects: the list is empty; export an image with automated "
                              "builds configured")
        return tuple(_source(item, f"objects[{i}]") for i, item in enumerate(objects))
    if isinstance(data, dict) and "build_settings" in data:
        return (_source(data, ""),)
    raise ExportError("the export must be one Docker Hub source object (with build_settings) "
                      'or {"objects": [...]}, as Docker Hub\'s build API answers')


def _source(item: Any, where: str) -> HubSource:
    """One source object."""
    if not isinstance(item, dict):
        raise ExportError(f"{where or 'the export'}: expected an object, got "
                          f"{type(item).__name__}")
    provider = _text(item, where, "provider")
    if provider.lower() not in PROVIDERS:
        raise ExportError(f"{_field(where, 'provider')}: unknown provider {provider!r} (Docker "
                          "Hub builds from GitHub or Bitbucket)")
    settings = _get(item, where, "build_settings", list, required=True)
    if not settings:
        raise ExportError(f"{_field(where, 'build_settings')}: no build rules; nothing to "
                          "import")
    links = item.get("repo_links")
    return HubSource(
        where=where, provider=PROVIDERS[provider.lower()], owner=_text(item, where, "owner"),
        repository=_text(item, where, "repository"), image=_image(item, where),
        envvars=_envvars(item.get("envvars"), _field(where, "envvars")),
        autotests=str(item.get("autotests") or "OFF"),
        repo_links=bool(links) and links not in ("OFF", "off"),
        build_settings=tuple(_setting(s, f"{_field(where, 'build_settings')}[{i}]")
                             for i, s in enumerate(settings)),
    )


def _image(item: Mapping[str, Any], where: str) -> str | None:
    """`namespace/name` from the source's `image` ("ns/name" or its resource URI), if given."""
    value = item.get("image")
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None:
        return None
    if not isinstance(value, str):
        raise ExportError(f"{_field(where, 'image')}: expected a string, got "
                          f"{type(value).__name__}")
    parts = [p for p in value.strip("/").split("/") if p]
    if "repository" in parts:
        parts = parts[parts.index("repository") + 1:]
    if len(parts) != 2:
        raise ExportError(f"{_field(where, 'image')}: {value!r} is not namespace/name")
    return "/".join(parts).lower()


def _envvars(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """Build environment variables: a list of {key, value} (Docker Hub's) or a mapping."""
    if value is None:
        return ()
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = []
        for i, entry in enumerate(value):
            if not isinstance(entry, dict):
                raise ExportError(f"{where}[{i}]: expected an object with key and value")
            name = entry.get("key", entry.get("name"))
            if not isinstance(name, str) or not name:
                raise ExportError(f"{where}[{i}].key: is missing")
            pairs.append((name, entry.get("value", "")))
    else:
        raise ExportError(f"{where}: expected a list of {{key, value}}")
    for name, val in pairs:
        if not isinstance(val, str | int | float) or isinstance(val, bool):
            raise ExportError(f"{where}.{name}: expected a string value")
    return tuple((str(name), str(val)) for name, val in pairs)


def _setting(item: Any, where: str) -> HubBuildSetting:
    """One build setting."""
    if not isinstance(item, dict):
        raise ExportError(f"{where}: expected an object, got {type(item).__name__}")
    kind = _text(item, where, "source_type")
    if kind.lower() not in ("branch", "tag"):
        raise ExportError(f"{where}.source_type: unknown source type {kind!r} (Docker Hub's "
                          "are Branch and Tag)")
    return HubBuildSetting(
        source_type=RefKind(kind.lower()), source_name=_text(item, where, "source_name"),
        tag=_get(item, where, "tag", str, "").strip(),
        dockerfile=_get(item, where, "dockerfile", str, "").strip().lstrip("/") or "Dockerfile",
        build_context=_get(item, where, "build_context", str, "/").strip(),
        autobuild=_get(item, where, "autobuild", bool, True),
        nocache=_get(item, where, "nocache", bool, False),
    )
