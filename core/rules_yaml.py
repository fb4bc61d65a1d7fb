"""Reading composed YAML nodes with line numbers, strict types and ${VAR} expansion (no I/O).

`Reader` turns PyYAML nodes (from `yaml.compose` with SafeLoader: nothing is ever constructed from
a tag) into plain values, and collects errors as `file:line: field.path: message`. Scalars keep
their source text for string fields, so `source: 1.10` is "1.10", not 1.1. Every string value has
`${VAR}` replaced from the environment; `$${` is a literal `${`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

import yaml

from core.credentials import MIN_SECRET_LENGTH, SecretRef, env_reference

_TAG = "tag:yaml.org,2002:"
STRINGY_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "timestamp"))
_VAR_RE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")
_TRUE = frozenset({"true", "yes", "on", "y"})
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


SECRET_FIELDS = frozenset({"secret", "secrets", "password", "token", "trigger_token", "env",
                           "secret_env", "build_args", "secret_build_args", "url", "headers"})
"""Fields whose values may be secrets: errors about them never show the value."""
_INDEX = re.compile(r"\[\d+\]")


def is_secret_path(path: str) -> bool:
    """Whether a field path such as `repositories[0].registry_auth.password` may hold a secret."""
    return any(part in SECRET_FIELDS for part in _INDEX.sub("", path).split("."))


def _kind(node: yaml.Node, path: str = "") -> str:
    """A short human name for what a node holds; without its value in secret fields."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = node.tag.removeprefix(_TAG)
    if tag == "null":
        return "null"
    return f"a {tag} (value hidden: it may be secret)" if is_secret_path(path) else (
        f"{tag} {node.value!r}")


class Reader:
    """Converts nodes to values for one file, recording every problem in `errors`."""

    def __init__(self, filename: str, environ: Mapping[str, str]) -> None:
        self.filename = filename
        self.environ = environ
        self._errors: list[tuple[int, str]] = []

    @property
    def errors(self) -> list[str]:
        """Every problem recorded so far, in line order."""
        return [message for _, message in sorted(self._errors, key=lambda e: e[0])]

    def count(self) -> int:
        """How many problems were recorded so far."""
        return len(self._errors)

    def error(self, node: yaml.Node, path: str, message: str) -> None:
        """Record `message` about the field at `path`, defined at `node`'s line."""
        line = node.start_mark.line + 1
        where = f"{self.filename}:{line}"
        text = f"{where}: {path}: {message}" if path else f"{where}: {message}"
        self._errors.append((line, text))

    def compose(self, text: str) -> yaml.Node | None:
        """The root node of `text`, or None after recording a syntax error or an empty file."""
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 0
            what = " ".join(p for p in (exc.context, exc.problem) if p)
            self._errors.append((line, f"{self.filename}:{line}: invalid YAML: {what}"))
            return None
        except yaml.YAMLError as exc:
            self._errors.append((0, f"{self.filename}: invalid YAML: {exc}"))
            return None
        if root is None:
            self._errors.append((1, f"{self.filename}:1: the file is empty; expected a "
                                 "mapping with a 'repositories' list"))
        return root

    def mapping(
        self,
        node: yaml.Node,
        path: str,
        known: Collection[str] | None,
        *,
        required: Sequence[str] = (),
    ) -> dict[str, yaml.Node]:
        """The fields of a mapping node; unknown, duplicate and missing keys are errors."""
        if not isinstance(node, yaml.MappingNode) or node.tag != _TAG + "map":
            self.error(node, path, f"expected a mapping, got {_kind(node, path)}")
            return {}
        fields: dict[str, yaml.Node] = {}
        seen: set[str] = set()
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag not in STRINGY_TAGS:
                self.error(key, path, f"keys must be plain names, got {_kind(key, path)}")
                continue
            field_path = f"{path}.{key.value}" if path else key.value
            if key.value in seen:
                self.error(key, field_path, "duplicate key")
            elif known is not None and key.value not in known:
                self.error(key, path or "top level",
                           f"unknown key {key.value!r} (known: {', '.join(sorted(known))})")
            else:
                fields[key.value] = value
            seen.add(key.value)
        for name in required:
            if name not in seen:
                self.error(node, f"{path}.{name}" if path else name, "is required")
        return fields

    def sequence(self, node: yaml.Node, path: str) -> list[yaml.Node] | None:
        """The items of a list node, or None after recording an error."""
        if not isinstance(node, yaml.SequenceNode) or node.tag != _TAG + "seq":
            self.error(node, path, f"expected a list, got {_kind(node, path)}")
            return None
        return list(node.value)

    def string(
        self, node: yaml.Node | None, path: str, default: str | None = None,
        *, nullable: bool = False,
    ) -> str | None:
        """A string field with ${VAR} expanded; `default` when absent, None after an error."""
        if node is None:
            return default
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null" and nullable:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag not in STRINGY_TAGS:
            self.error(node, path, f"expected a string, got {_kind(node, path)}")
            return None
        return self.expand(node.value, node, path)

    def boolean(self, node: yaml.Node | None, path: str, default: bool) -> bool:
        """A true/false field; `default` when absent or after an error."""
        if node is None:
            return default
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "bool":
            return str(node.value).lower() in _TRUE
        self.error(node, path, f"expected true or false, got {_kind(node, path)}")
        return default

    def integer(self, node: yaml.Node | None, path: str, default: int) -> int | None:
        """An integer field; `default` when absent, None after an error."""
        if node is None:
            return default
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "int":
            value = _CONSTRUCTOR.construct_yaml_int(node)
            assert isinstance(value, int)
            return value
        self.error(node, path, f"expected an integer, got {_kind(node, path)}")
        return None

    def string_list(self, node: yaml.Node | None, path: str) -> list[str]:
        """A list of strings; [] when absent (errors are recorded)."""
        if node is None:
            return []
        items = self.sequence(node, path) or []
        values = [self.string(item, f"{path}[{i}]") for i, item in enumerate(items)]
        return [v for v in values if v is not None]

    def string_map(self, node: yaml.Node | None, path: str) -> tuple[tuple[str, str], ...]:
        """A mapping of names to string values, in file order; () when absent."""
        if node is None:
            return ()
        pairs: list[tuple[str, str]] = []
        for key, value_node in self.mapping(node, path, None).items():
            if not key.strip():
                self.error(value_node, path, "names must not be empty")
            value = self.string(value_node, f"{path}.{key}")
            if value is not None:
                pairs.append((key, value))
        return tuple(pairs)

    def secret(self, node: yaml.Node | None, path: str) -> SecretRef | None:
        """A worker-side secret: `${NAME}` or `{file: /path}`, kept as a reference, never its
        value (plans holding it are stored); None when absent or after an error."""
        if node is None:
            return None
        if isinstance(node, yaml.MappingNode):
            fields = self.mapping(node, path, {"file"}, required=("file",))
            file = self.string(fields.get("file"), f"{path}.file")
            if file is not None and not file.startswith("/"):
                self.error(fields["file"], f"{path}.file", "must be an absolute path")
                return None
            return SecretRef(file=file) if file else None
        if not isinstance(node, yaml.ScalarNode) or node.tag not in STRINGY_TAGS:
            self.error(node, path,
                       f"expected ${{VARIABLE}} or {{file: /path}}, got {_kind(node, path)}")
            return None
        ref = env_reference(str(node.value))
        if ref is None:
            self.error(node, path, "write this secret as ${VARIABLE} (read by the worker when "
                       "it builds) or {file: /path}: its value must never be stored with builds")
            return None
        value = self.environ.get(ref.env or "")
        if value is not None and len(value) < MIN_SECRET_LENGTH:
            self.error(node, path, f"the value of {ref.describe()} is shorter than "
                       f"{MIN_SECRET_LENGTH} characters; use a real secret")
            return None
        return ref

    def expand(self, value: str, node: yaml.Node, path: str) -> str | None:
        """`value` with ${VAR} taken from the environment; None after recording an error."""
        out: list[str] = []
        position = 0
        ok = True
        for found in _VAR_RE.finditer(value):
            out.append(value[position : found.start()])
            position = found.end()
            if found.group(0) == "$${":
                out.append("${")
            elif found.group(1) is None:
                self.error(node, path, "invalid ${...} reference (write ${NAME}, or $${ for a "
                           "literal ${)")
                ok = False
            elif found.group(1) not in self.environ:
                self.error(node, path, f"environment variable {found.group(1)} is not set")
                ok = False
            else:
                out.append(self.environ[found.group(1)])
        out.append(value[position:])
        return "".join(out) if ok else None
