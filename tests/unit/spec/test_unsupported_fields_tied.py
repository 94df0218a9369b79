"""The two lists of Wave fields wave-sandbox refuses, held together: the models' field docstrings that
say "(not supported yet)" and `spec.unsupported.REFUSED_FIELDS`, which does the refusing.

A field added to the models as not supported but missing from REFUSED_FIELDS would be accepted and
silently ignored; one refused but documented as honoured would mislead the reader."""

from __future__ import annotations

import ast
import inspect
import re
import typing

from pydantic import BaseModel

from wave_sandbox.spec import models
from wave_sandbox.spec.unsupported import REFUSED_FIELDS

NOT_SUPPORTED_DOC = re.compile(r"\(not supported yet[;)]")


def field_docstrings() -> dict[str, dict[str, str]]:
    """{class name: {field name: docstring}} read from the models' source."""
    found: dict[str, dict[str, str]] = {}
    for node in ast.parse(inspect.getsource(models)).body:
        if isinstance(node, ast.ClassDef):
            docs = found.setdefault(node.name, {})
            for first, second in zip(node.body, node.body[1:]):
                if isinstance(first, ast.AnnAssign) and isinstance(second, ast.Expr):
                    if isinstance(second.value, ast.Constant) and isinstance(second.value.value, str):
                        docs[first.target.id] = second.value.value
    return found


def nested_models(annotation) -> tuple[list[type[BaseModel]], bool]:
    """The spec models inside an annotation, and whether they sit in a list."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation], False
    found, in_list = [], typing.get_origin(annotation) is list
    for argument in typing.get_args(annotation):
        inner, inner_list = nested_models(argument)
        found += inner
        in_list = in_list or inner_list
    return found, in_list


def documented_as_refused() -> set[tuple[str, ...]]:
    docs, refused, seen = field_docstrings(), set(), set()

    def walk(model: type[BaseModel], path: tuple[str, ...]) -> None:
        if (model, path) in seen:
            return
        seen.add((model, path))
        for name, field in model.model_fields.items():
            key = field.alias or name
            if NOT_SUPPORTED_DOC.search(docs.get(model.__name__, {}).get(name, "")):
                refused.add(path + (key,))
            inner, in_list = nested_models(field.annotation)
            for nested in inner:
                walk(nested, path + (key,) + (("*",) if in_list else ()))

    walk(models.Pipeline, ())
    return refused


def test_every_field_documented_as_not_supported_is_refused_and_no_other():
    refused = {place + (name,) for place, names in REFUSED_FIELDS.items() for name in names}
    documented = documented_as_refused()
    assert sorted(documented - refused) == [], "documented as not supported but not refused"
    assert sorted(refused - documented) == [], "refused but not documented as not supported in spec/models.py"
