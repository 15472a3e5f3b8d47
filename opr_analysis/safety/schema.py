"""One schema per kind of file a user hands the program, and their errors in Norwegian.

Every YAML file from a user is parsed by the guarded loader
(:func:`opr_analysis.safety.limits.load_yaml`) and then validated by a pydantic
model of its kind (research-extract spec, indicator definitions, experiment
spec, glossary) before any work starts. The models derive from
:class:`UserModel`:

- **Unknown keys are errors**, never ignored: a misspelt ``parms:`` would
  otherwise leave the default in force and publish wrong numbers silently.
  The message names the key and the nearest known one (difflib).
- **Types are strict.** YAML's own types are taken as written: ``green: høy``
  is not a number, ``kinds: 5`` not a list, ``true`` not a number; integers
  are accepted where a decimal number is expected. Infinite and NaN values are
  refused.
- **Dates** (:data:`PlainDate`) are a date alone (``2025-01-01`` or
  ``01.01.2025``), never a date with a time, between :data:`MIN_DATE` and
  :data:`MAX_DATE`; **years** (:data:`Year`) between :data:`MIN_YEAR` and
  :data:`MAX_YEAR`. Every number has a range, so that no value can make a run
  allocate gigabytes (``first_year: -100000000``) or loop for hours
  (``block_sizes: [1000000000]``).
- **Every problem at once**: :func:`validate` collects all of pydantic's
  errors and raises one :class:`~opr_analysis.errors.UsageError` (exit
  status 2) listing each as ``key.path «value»: what was expected``, in
  Norwegian, headed by the file's name. Values are shown masked if they hold
  an identity number, and shortened when long.

>>> class Window(UserModel):
...     first_due: PlainDate
...     days: int = Field(30, ge=1, le=365)
>>> validate(Window, {"first_due": "2025-01-01", "dags": 3}, "x.yaml")
Traceback (most recent call last):
...
opr_analysis.errors.UsageError: x.yaml har feil:
  dags: ukjent nøkkel (mente du «days»?; tillatt: days, first_due)
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from ..errors import UsageError
from .limits import MAX_DATE, MAX_YEAR, MIN_DATE, MIN_YEAR

__all__ = [
    "MAX_DATE",
    "MAX_YEAR",
    "MIN_DATE",
    "MIN_YEAR",
    "Field",
    "Listed",
    "NonEmptyText",
    "SLUG",
    "Slug",
    "PlainDate",
    "UserModel",
    "Year",
    "as_list",
    "check_plain_date",
    "error_lines",
    "nearest",
    "opr_error",
    "validate",
]

_SHOWN_CHARS = 80


class UserModel(BaseModel):
    """Base of the schemas of user files: unknown keys forbidden, strict types, finite numbers."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


def opr_error(message: str) -> PydanticCustomError:
    """An error a validator raises with a Norwegian ``message`` (shown as is)."""
    return PydanticCustomError("opr", message)  # no context given: the text is shown as is


def check_plain_date(value, *, low: dt.date = MIN_DATE, high: dt.date = MAX_DATE) -> dt.date:
    """A date (``date``, ``YYYY-MM-DD`` or ``DD.MM.YYYY``) within [low, high]; never a date with a time."""
    if isinstance(value, dt.datetime):
        raise opr_error("ventet en dato uten klokkeslett (ÅÅÅÅ-MM-DD)")
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                value = dt.datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
    if not isinstance(value, dt.date):
        raise opr_error("ventet en dato som ÅÅÅÅ-MM-DD")
    if not low <= value <= high:
        raise opr_error(f"datoen må ligge mellom {low.isoformat()} og {high.isoformat()}")
    return value


def _non_empty(value):
    if isinstance(value, str) and not value.strip():
        raise opr_error("mangler (påkrevd; tom tekst)")
    return value


def as_list(value):
    """A single value where a list is expected counts as a list of one (``kinds: rf_3m``)."""
    return [value] if isinstance(value, str) else value


#: ``Annotated[list[str], Listed]``: a list, or one value written alone.
Listed = BeforeValidator(as_list)
#: A project's or an experiment's id: it names folders, key files and seed files.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")


def _slug(value: str) -> str:
    if not SLUG.match(value.strip()):
        raise opr_error("bruk 2–41 tegn a–z, 0–9 og bindestrek (det blir en del av mappe- og filnavn)")
    return value.strip()


#: An id that becomes part of folder and file names (see :data:`SLUG`).
Slug = Annotated[str, Field(max_length=41), AfterValidator(_slug)]
#: A date as written in a spec (see :func:`check_plain_date`).
PlainDate = Annotated[dt.date, BeforeValidator(check_plain_date)]
#: A calendar year within the registry's range.
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]
#: Text that must say something (at most 10 000 characters).
NonEmptyText = Annotated[str, Field(max_length=10_000), BeforeValidator(_non_empty)]


def nearest(word: str, known) -> str | None:
    """The known word closest to ``word`` (difflib), if any is close enough."""
    found = difflib.get_close_matches(str(word), [str(k) for k in known], n=1, cutoff=0.6)
    return found[0] if found else None


def _unwrap(annotation) -> list:
    """The model classes an annotation can hold (through Optional, list, dict, Annotated …)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    return []


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model whose keys apply at ``loc`` (list indexes and dict keys of free mappings skipped)."""
    current = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if field is None:
            continue  # a key of a free mapping (dict[str, Model])
        models = _unwrap(field.annotation)
        current = models[0] if models else None
    return current


def _keys(model: type[BaseModel]) -> list[str]:
    """The keys a user may write (a field marked ``refused`` exists only to explain its refusal)."""
    return sorted(
        f.alias or name for name, f in model.model_fields.items() if not (f.json_schema_extra or {}).get("refused")
    )


def _path(loc: tuple, raw: Any = None) -> str:
    """``indicators[2] (ny).params``: keys joined by dots, list positions in brackets, and an
    element's ``id`` beside its position when it has one (so the reader finds the entry)."""
    from .nin import mask_nin

    out, node = "", raw
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f" ({mask_nin(node['id'])})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _shown(value) -> str:
    """The value as the message shows it: masked, shortened; lists and mappings without «»."""
    from .nin import mask_nin

    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        text = mask_nin(repr(value))
        return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"
    text = " ".join(mask_nin(text).split())
    return f"«{text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + '…'}»"


_TYPES = {
    "int_type": "ventet et heltall",
    "int_parsing": "ventet et heltall",
    "int_from_float": "ventet et heltall",
    "float_type": "ventet et tall (desimalpunktum, f.eks. 0.8)",
    "float_parsing": "ventet et tall (desimalpunktum, f.eks. 0.8)",
    "finite_number": "ventet et endelig tall",
    "bool_type": "ventet true eller false",
    "string_type": "ventet tekst",
    "list_type": "ventet en liste, f.eks. [a, b]",
    "tuple_type": "ventet en liste, f.eks. [a, b]",
    "dict_type": "ventet en mapping (nøkkel: verdi)",
    "model_type": "ventet en mapping (nøkkel: verdi)",
    "model_attributes_type": "ventet en mapping (nøkkel: verdi)",
    "date_type": "ventet en dato som ÅÅÅÅ-MM-DD",
    "date_parsing": "ventet en dato som ÅÅÅÅ-MM-DD",
    "date_from_datetime_inexact": "ventet en dato uten klokkeslett (ÅÅÅÅ-MM-DD)",
    "missing": "mangler (påkrevd)",
    "string_pattern_mismatch": "har tegn som ikke er tillatt her",
    "frozen_set_type": "ventet en liste, f.eks. [a, b]",
    "set_type": "ventet en liste, f.eks. [a, b]",
}


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _message(err: dict, model: type[BaseModel]) -> str:
    kind, ctx, loc = err["type"], err.get("ctx") or {}, err["loc"]
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        known = _keys(owner) if owner is not None else []
        near = nearest(loc[-1], known)
        hint = f"mente du «{near}»?; " if near else ""
        return f"ukjent nøkkel ({hint}tillatt: {', '.join(known)})"
    if kind == "opr":
        return err["msg"]
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "literal_error":
        return f"ventet en av {str(ctx.get('expected', '')).replace(' or ', ', ').replace(chr(39), '')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": ("ge", "minst"), "greater_than": ("gt", "større enn"),
                 "less_than_equal": ("le", "høyst"), "less_than": ("lt", "mindre enn")}[kind]  # fmt: skip
        return f"må være {bound[1]} {_number(ctx.get(bound[0]))}"
    if kind == "too_short":
        return f"må ha minst {ctx.get('min_length')} element"
    if kind == "too_long":
        what = "tegn" if isinstance(err.get("input"), str) else "element"
        return f"kan ha høyst {ctx.get('max_length')} {what}"
    if kind == "string_too_long":
        return f"kan ha høyst {ctx.get('max_length')} tegn"
    if kind == "string_too_short":
        return "mangler (påkrevd; tom tekst)"
    return _TYPES.get(kind, f"ugyldig verdi ({kind})")


def error_lines(exc: ValidationError, model: type[BaseModel], raw: Any = None) -> list[str]:
    """One Norwegian line per error of ``exc``: ``key.path «value»: what was expected``."""
    lines = []
    for err in exc.errors(include_url=False):
        path = _path(err["loc"], raw) or "(filen)"
        message = _message(err, model)
        value = err.get("input")
        if err["type"] in ("missing", "extra_forbidden") or isinstance(value, dict) or value in (None, ""):
            lines.append(f"{path}: {message}")
        else:
            lines.append(f"{path} {_shown(value)}: {message}")
    return list(dict.fromkeys(lines))


def validate(model: type[BaseModel], raw: Any, name: str):
    """``raw`` (a parsed YAML document) as a ``model`` instance, or one :class:`UsageError` listing every problem."""
    if not isinstance(raw, dict):
        keys = ", ".join(_keys(model)[:4])
        raise UsageError(f"{name}: ventet en YAML-mapping med nøkler som {keys} …")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise UsageError(f"{name} har feil:\n  " + "\n  ".join(error_lines(exc, model, raw))) from None
