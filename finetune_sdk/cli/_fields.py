"""The field mapping of ``finetune convert``: ``--columns``, ``--field`` and ``--role``, the command-line
face of :class:`~finetune_sdk.data.convert.FieldMap`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from ..data._json import as_object
from ..data.convert import FieldMap
from ..data.convert._records import SOURCES

FC = TypeVar("FC", bound=Callable[..., object])

__all__ = ["COLUMNS", "FIELD", "KEY_VALUE", "ROLE", "field_map", "source_options"]

_COLUMN_KEYS = ("prompt", "response", "system", "input")
_FIELD_KEYS = ("messages", "role", "content", "system", "prompt", "response", "input")
_ROLES = ("system", "user", "assistant", "developer", "tool", "tool_call")


def _pair(text: str, keys: Iterable[str] | None, what: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or not value:
        raise click.BadParameter(f"{text!r} is not {what}")
    if keys is not None and key not in keys:
        raise click.BadParameter(f"{key!r} is none of {', '.join(keys)}")
    return key, value


class Columns(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2 on (>= 8.1 allowed)
    """``prompt=问题,response=答案``: the table columns by header text or position from 1."""

    name = "columns"
    help = (
        "Which table columns to read, by header text or position from 1: prompt=问题,response=答案 "
        "(also system=..., input=... joined to the prompt)."
    )

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dict[str, str]:
        given = as_object(value)
        if given is not None:  # a default given as a mapping
            return {k: str(v) for k, v in given.items()}
        found: dict[str, str] = {}
        for item in str(value).split(","):
            try:
                key, name = _pair(item, _COLUMN_KEYS, "ROLE=NAME")
            except click.BadParameter as exc:
                self.fail(exc.message, param, ctx)
            found[key] = name
        return found


class Field(click.ParamType):  # type: ignore[type-arg]
    """``messages=dialog``: a key of the records."""

    name = "field"
    help = (
        "A key of the records, named otherwise (repeatable): messages=dialog, role=speaker, content=text, "
        "system=..., prompt=..., response=..., input=..."
    )

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, str]:
        try:
            return _pair(str(value), _FIELD_KEYS, "KEY=NAME")
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


class Role(click.ParamType):  # type: ignore[type-arg]
    """``Kunde=user``: a role name of the records and the role it is."""

    name = "role"
    help = (
        "A role name of the records and what it is (repeatable): Kunde=user, Bot=assistant "
        f"({', '.join(_ROLES)})."
    )

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, str]:
        try:
            name, role = _pair(str(value), None, "NAME=ROLE")
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)
        if role not in _ROLES:
            self.fail(f"{role!r} is none of {', '.join(_ROLES)}", param, ctx)
        return name, role


class KeyValue(click.ParamType):  # type: ignore[type-arg]
    """``team=search``: a key and its value (``jobs list --metadata``)."""

    name = "key=value"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, str]:
        try:
            return _pair(str(value), None, "KEY=VALUE")
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


COLUMNS = Columns()
KEY_VALUE = KeyValue()
FIELD = Field()
ROLE = Role()


def field_map(
    columns: dict[str, str] | None, fields: Iterable[tuple[str, str]], roles: Iterable[tuple[str, str]]
) -> FieldMap | None:
    """The :class:`FieldMap` of the options, ``None`` when none was given."""
    names: dict[str, str] = dict(fields)
    for key, name in (columns or {}).items():
        if names.get(key, name) != name:
            raise click.BadParameter(
                f"{key} is given twice: {names[key]!r} and {name!r}", param_hint="--columns"
            )
        names[key] = name
    role_map = dict(roles)
    if not names and not role_map:
        return None
    return FieldMap(
        messages=names.get("messages"),
        role=names.get("role"),
        content=names.get("content"),
        system=names.get("system"),
        prompt=names.get("prompt"),
        response=names.get("response"),
        input=names.get("input"),
        roles=role_map,
    )


def source_options(name: str) -> Callable[[FC], FC]:
    """``--from`` (the format of the input ``name``), ``--columns``, ``--field`` and ``--role``: how to
    read another format (``convert`` and ``tune``); :func:`field_map` makes their ``FieldMap``."""
    options = (
        click.option(
            "--from",
            "source",
            type=click.Choice(SOURCES),
            default="auto",
            show_default=True,
            help=f"The format of {name} (auto: detected from its content; table: prompt/response columns).",
        ),
        click.option("--columns", "columns", type=COLUMNS, metavar="ROLE=NAME,...", help=COLUMNS.help),
        click.option(
            "--field", "field_names", type=FIELD, multiple=True, metavar="KEY=NAME", help=FIELD.help
        ),
        click.option("--role", "roles", type=ROLE, multiple=True, metavar="NAME=ROLE", help=ROLE.help),
    )

    def decorate(command: FC) -> FC:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
