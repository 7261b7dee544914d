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


def read_yaml(path: Path, text: str | None = None) -> tuple[dict, yaml.Node | None, str]:
    """Read a YAML mapping (from `text` when given, `path` naming where it came from); a missing file
    or bad YAML is one clear UserError."""
    if text is None:
        if not path.exists():
            raise UserError(f"{path}: file not found")
        text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UserError(f"{path}{where}: invalid YAML: {problem}") from None
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
    out = []
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
        if "input" in err and err["type"] not in ("missing", "extra_forbidden") and not isinstance(err["input"], (dict, list)):
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
