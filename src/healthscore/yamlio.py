"""Load YAML into pydantic models with errors that name the file, line, key path and what is allowed."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from healthscore.errors import UserError

M = TypeVar("M", bound=BaseModel)


def key_path(loc: tuple) -> str:
    """('components', 0, 'metrics', 2, 'window') -> 'components[0].metrics[2].window'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """The 1-based line of the deepest node of `loc` found in the composed YAML tree."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        node = nxt
    else:
        if node is not None:
            line = node.start_mark.line + 1
    return line


# The most values a document may hold once its aliases are expanded: health models and workspace
# files hold a few thousand; an "alias bomb" (aliases of aliases of lists) holds billions and took
# every byte of memory once pydantic walked it.
MAX_EXPANDED_NODES = 200_000
_MERGE = "tag:yaml.org,2002:merge"
# libyaml's parser where PyYAML was built with it: the pure-Python one cost a read command 0.2 s of CPU
# per model file. Same nodes and marks, so the checks and messages below are unchanged.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_tree(path: Path, root: yaml.Node | None) -> None:
    """Duplicate keys (YAML says keys are unique; PyYAML keeps the last silently) and the expanded
    size (aliases counted as often as they are used), without expanding anything."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in busy:
            line = node.start_mark.line + 1
            raise UserError(f"{path}:{line}: invalid YAML: an alias refers to the node that contains it (recursive)")
        busy.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != _MERGE:
                    ident = (k.tag, k.value)
                    line = k.start_mark.line + 1
                    if ident in seen:
                        raise UserError(
                            f"{path}:{line}: duplicate key {k.value!r} (first at line {seen[ident]});"
                            " YAML keys must be unique: keep one",
                        )
                    seen[ident] = line
                total += size(k) + size(v)
                if total > MAX_EXPANDED_NODES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                total += size(v)
                if total > MAX_EXPANDED_NODES:
                    break
        busy.discard(key)
        sizes[key] = total
        if total > MAX_EXPANDED_NODES:
            raise UserError(
                f"{path}:{node.start_mark.line + 1}: invalid YAML: more than {MAX_EXPANDED_NODES:,} values once its"
                " aliases (*name) are expanded; write the values out or use fewer aliases",
            )
        return total

    if root is not None:
        size(root)


def _bad_scalar(root: yaml.Node | None) -> yaml.ScalarNode | None:
    """The first scalar that cannot be built (a date 2024-13-45): where a construction error is."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            build = yaml.SafeLoader.yaml_constructors.get(node.tag)
            try:
                if build is not None:
                    build(yaml.SafeLoader(""), node)
            except (ValueError, TypeError, OverflowError):
                return node
        elif isinstance(node, yaml.MappingNode):
            stack.extend(x for kv in reversed(node.value) for x in reversed(kv))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return None


def read_yaml(path: Path, text: str | None = None) -> tuple[dict, yaml.Node | None, str]:
    """Read a YAML mapping (from `text` when given, `path` naming where it came from); a missing file,
    bad YAML, a duplicate key or too many values behind aliases is one clear UserError."""
    if text is None:
        if not path.exists():
            raise UserError(f"{path}: file not found")
        text = path.read_text(encoding="utf-8")
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            _check_tree(path, node)  # before anything is built from it
            try:
                data = loader.construct_document(node) if node is not None else None
            except (ValueError, TypeError, OverflowError) as exc:  # e.g. an unquoted date 2024-13-45
                bad = _bad_scalar(node)
                where = f":{bad.start_mark.line + 1}" if bad is not None else ""
                value = f" {bad.value!r}" if bad is not None else ""
                raise UserError(f"{path}{where}: invalid YAML value{value}: {exc}") from None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UserError(f"{path}{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise UserError(f"{path}: invalid YAML: nested too deeply") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of keys at the top level, found {type(data).__name__}")
    return data, node, text


def _drop_union_tags(node: yaml.Node | None, loc: tuple) -> tuple:
    """Remove the tag pydantic inserts for a tagged union ('sinks', 0, 'webhook', 'url' -> 'sinks', 0, 'url').

    A tag is a loc part that is not a key of the YAML mapping at that point but is the value of its
    `kind:` (or `type:`) key, the one that selected the variant; real keys are never dropped.
    """
    out: list[str | int] = []
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            keys = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            tag = keys.get("kind", keys.get("type"))
            if part not in keys and isinstance(tag, yaml.ScalarNode) and tag.value == part:
                continue
            out.append(part)
            node = keys.get(part)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            out.append(part)
            node = node.value[part]
        else:
            out.append(part)
            node = None
    return tuple(out)


def format_validation_error(path: Path | str, exc: ValidationError, node: yaml.Node | None = None) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # Drop discriminator/union tags pydantic inserts (e.g. 'linear' in a tagged union).
        loc = _drop_union_tags(node, loc)
        line = _line_of(node, loc) if node is not None else None
        where = f"{path}:{line}" if line else f"{path}"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
            ctx_allowed = err.get("ctx", {}).get("allowed")
            if ctx_allowed:
                msg += f"; allowed: {ctx_allowed}"
        elif err["type"] == "missing":
            msg = "required key is missing"
        shown = "input" in err and not isinstance(err["input"], (dict, list))
        if shown and err["type"] not in ("missing", "extra_forbidden"):
            msg += f" (got {err['input']!r})"
        lines.append(f"{where}: {key_path(loc)}: {msg}")
    return lines


def load_model(path: Path, cls: type[M], *, what: str, context: dict | None = None) -> M:
    data, node, _ = read_yaml(path)
    try:
        return cls.model_validate(data, context=context)
    except ValidationError as exc:
        details = format_validation_error(path, exc, node)
        raise UserError(f"{path}: {len(details)} error(s) in the {what}", details=details) from None
