"""Strict structural validation of JSON against datadog-api-client's models.

Why not just deserialise with the client? Its models are lenient on purpose: unknown keys become
"additional properties" and a bad enum value turns the object into an `UnparsedObject` without an
error. For assets kept as code that is the wrong default: a typo such as `notify_nodata` would be
silently ignored by Datadog and the monitor would never page. So this walks the same model metadata
the client uses (`openapi_types`, `attribute_map`, `allowed_values`, `validations`, the `__init__`
signature for required keys, `_composed_schemas` for oneOf) and reports every deviation with a JSON
path. Files that are not a Datadog API object (incident settings, notification routes) describe
their shape with `Envelope`, which this walker treats the same way.
"""

from __future__ import annotations

import difflib
import inspect
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from datadog_api_client.exceptions import ApiValueError
from datadog_api_client.model_utils import (
    ModelComposed,
    ModelNormal,
    ModelSimple,
    OpenApiModel,
    check_validations,
    file_type,
    none_type,
)

from godseye.datadog_assets.problems import join_path

Issue = tuple[str, str]  # (json path, message)


@dataclass(frozen=True)
class Envelope:
    """A JSON object shape that is ours, not Datadog's; its values may be Datadog models."""

    name: str
    fields: dict[str, tuple]
    required: frozenset[str] = field(default_factory=frozenset)
    description: str = ""


def check(value: Any, spec: Any, path: str = "$", *, allow_read_only: bool = False) -> list[Issue]:
    """Every way `value` deviates from `spec` (a model class, an Envelope or an openapi type tuple)."""
    alternatives = spec if isinstance(spec, tuple) else (spec,)
    return _check_alternatives(value, alternatives, path, allow_read_only)


def _check_alternatives(value: Any, alternatives: tuple, path: str, ro: bool) -> list[Issue]:
    if value is None:
        if none_type in alternatives:
            return []
        return [(path, "null is not allowed here")]
    candidates = [a for a in alternatives if a is not none_type]
    best: list[Issue] | None = None
    for alt in candidates:
        issues = _check_one(value, alt, path, ro)
        if not issues:
            return []
        if best is None or len(issues) < len(best):
            best = issues
    if best is None:
        return [(path, "no value is allowed here")]
    if len(candidates) > 1 and all(_is_primitive(a) for a in candidates):
        names = " or ".join(_type_name(a) for a in candidates)
        return [(path, f"expected {names}, got {_json_type(value)}")]
    return best


def _is_primitive(t: Any) -> bool:
    return isinstance(t, type) and not issubclass(t, OpenApiModel)


def _type_name(t: Any) -> str:
    if isinstance(t, list):
        return "list"
    if isinstance(t, dict):
        return "object"
    if isinstance(t, Envelope):
        return t.name
    return {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "list",
            datetime: "date-time string", date: "date string", uuid.UUID: "UUID string"}.get(t, getattr(t, "__name__", str(t)))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _check_one(value: Any, alt: Any, path: str, ro: bool) -> list[Issue]:
    if isinstance(alt, list):
        if not isinstance(value, list):
            return [(path, f"expected a list, got {_json_type(value)}")]
        inner = tuple(alt)
        issues: list[Issue] = []
        for i, item in enumerate(value):
            issues += _check_alternatives(item, inner, join_path(path, i), ro)
        return issues
    if isinstance(alt, dict):
        if not isinstance(value, dict):
            return [(path, f"expected an object, got {_json_type(value)}")]
        ((_, inner),) = alt.items()
        issues = []
        for key, item in value.items():
            issues += _check_alternatives(item, tuple(inner), join_path(path, key), ro)
        return issues
    if isinstance(alt, Envelope):
        return _check_envelope(value, alt, path, ro)
    if isinstance(alt, type) and issubclass(alt, ModelSimple):
        return _check_simple(value, alt, path)
    if isinstance(alt, type) and issubclass(alt, ModelComposed):
        return _check_composed(value, alt, path, ro)
    if isinstance(alt, type) and issubclass(alt, ModelNormal):
        return _check_normal(value, alt, path, ro)
    return _check_primitive(value, alt, path)


def _check_primitive(value: Any, t: Any, path: str) -> list[Issue]:
    ok: bool
    if t is bool:
        ok = isinstance(value, bool)
    elif t is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif t is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif t is str:
        ok = isinstance(value, str)
    elif t in (datetime, date):
        ok = isinstance(value, str) and _parses_as_date(value)
    elif t is uuid.UUID:
        ok = isinstance(value, str) and _parses_as_uuid(value)
    elif t is dict:
        ok = isinstance(value, dict)
    elif t is list:
        ok = isinstance(value, list)
    elif t is file_type:
        ok = False
    else:
        ok = isinstance(value, t)
    if ok:
        return []
    return [(path, f"expected {_type_name(t)}, got {_json_type(value)} {_short(value)}")]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parses_as_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def _parses_as_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False


def _check_simple(value: Any, cls: type[ModelSimple], path: str) -> list[Issue]:
    value_types = cls.openapi_types.get("value", (str,))
    issues = _check_alternatives(value, tuple(value_types), path, False)
    if issues:
        return issues
    allowed = cls.allowed_values
    if allowed and value not in allowed:
        choices = ", ".join(repr(v) for v in sorted(allowed, key=str))
        hint = _did_you_mean(str(value), [str(v) for v in allowed])
        return [(path, f"{value!r} is not a valid {cls.__name__}{hint}; allowed: {choices}")]
    return _check_validations(cls, "value", value, path)


def _check_validations(cls: type[OpenApiModel], attr: str, value: Any, path: str) -> list[Issue]:
    rules = cls.validations.get(attr) if cls.validations else None
    if not rules:
        return []
    try:
        check_validations(rules, attr, value)
    except (ApiValueError, ValueError) as exc:
        return [(path, str(exc))]
    return []


@cache
def _constant_fields(cls: Any) -> dict[str, frozenset]:
    """JSON keys of a model whose type is a one-value enum (`type: "timeseries"`): oneOf discriminators."""
    if isinstance(cls, type) and issubclass(cls, ModelComposed):
        merged: dict[str, frozenset] = {}
        for option in cls._composed_schemas.get("oneOf", ()):
            for key, allowed in _constant_fields(option).items():
                merged[key] = merged.get(key, frozenset()) | allowed
        return merged
    if not (isinstance(cls, type) and issubclass(cls, ModelNormal)):
        return {}
    out = {}
    for attr, types in cls.openapi_types.items():
        if len(types) == 1 and isinstance(types[0], type) and issubclass(types[0], ModelSimple):
            allowed = types[0].allowed_values
            if allowed and len(allowed) == 1:
                out[cls.attribute_map.get(attr, attr)] = frozenset(allowed)
    return out


def _discriminate(value: Any, options: tuple) -> tuple:
    """The oneOf options whose constant fields agree with `value`, else the closest by those fields."""
    if not isinstance(value, dict):
        return options
    keep, scored = [], []
    for option in options:
        constants = _constant_fields(option)
        relevant = {k: allowed for k, allowed in constants.items() if k in value}
        if all(value[k] in allowed for k, allowed in relevant.items()):
            keep.append(option)
        else:
            score = sum(max(difflib.SequenceMatcher(None, str(value[k]), str(a)).ratio() for a in allowed)
                        for k, allowed in relevant.items())
            scored.append((score, option))
    if keep:
        return tuple(keep)
    scored.sort(key=lambda pair: -pair[0])
    return (scored[0][1],) if scored else options


def _check_composed(value: Any, cls: type[ModelComposed], path: str, ro: bool) -> list[Issue]:
    options = tuple(cls._composed_schemas.get("oneOf", ()))
    if not options:
        return []
    best: list[Issue] | None = None
    for option in _discriminate(value, options):
        issues = _check_one(value, option, path, ro)
        if not issues:
            return []
        if best is None or len(issues) < len(best):
            best = issues
    assert best is not None
    return best


@cache
def required_keys(cls: type[ModelNormal]) -> frozenset[str]:
    """Attribute names `__init__` takes without a default: what the API requires."""
    params = inspect.signature(cls.__init__).parameters
    names = {
        name
        for name, p in params.items()
        if name not in {"self", "self_"}
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.default is inspect.Parameter.empty
    }
    return frozenset(names)


def _explicit_additional_properties(cls: type[ModelNormal]) -> tuple | None:
    """Models that declare `additional_properties_type` themselves; the base default is not a licence."""
    for klass in cls.__mro__:
        if klass in (ModelNormal, OpenApiModel):
            return None
        if "additional_properties_type" in vars(klass):
            allowed = klass.additional_properties_type
            return tuple(allowed) if allowed else None
    return None


def _check_normal(value: Any, cls: type[ModelNormal], path: str, ro: bool) -> list[Issue]:
    if not isinstance(value, dict):
        return [(path, f"expected a {cls.__name__} object, got {_json_type(value)}")]
    types = cls.openapi_types
    by_json_key = {json_key: attr for attr, json_key in cls.attribute_map.items()}
    extra = _explicit_additional_properties(cls)
    issues: list[Issue] = []
    for key, item in value.items():
        sub = join_path(path, key)
        attr = by_json_key.get(key)
        if attr is None:
            if extra is not None:
                issues += _check_alternatives(item, extra, sub, ro)
                continue
            hint = _did_you_mean(key, list(by_json_key))
            issues.append((sub, f"unknown key {key!r} for {cls.__name__}{hint}"))
            continue
        if attr in cls.read_only_vars and not ro:
            issues.append((sub, f"{key!r} is read-only in {cls.__name__} (set by Datadog); remove it"))
            continue
        sub_issues = _check_alternatives(item, tuple(types[attr]), sub, ro)
        issues += sub_issues or _check_validations(cls, attr, item, sub)
    for attr in sorted(required_keys(cls)):
        json_key = cls.attribute_map.get(attr, attr)
        if json_key not in value:
            issues.append((path, f"missing required key {json_key!r} for {cls.__name__}"))
    return issues


def _check_envelope(value: Any, env: Envelope, path: str, ro: bool) -> list[Issue]:
    if not isinstance(value, dict):
        return [(path, f"expected a {env.name} object, got {_json_type(value)}")]
    issues: list[Issue] = []
    for key, item in value.items():
        sub = join_path(path, key)
        if key not in env.fields:
            hint = _did_you_mean(key, list(env.fields))
            issues.append((sub, f"unknown key {key!r} for {env.name}{hint}"))
            continue
        issues += _check_alternatives(item, env.fields[key], sub, ro)
    for key in sorted(env.required):
        if key not in value:
            issues.append((path, f"missing required key {key!r} for {env.name}"))
    return issues


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
