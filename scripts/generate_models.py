"""Generate ``pytest_spectron/client/models.py`` from Spectron's OpenAPI document.

    python scripts/generate_models.py               write the module
    python scripts/generate_models.py --check       exit 1 if the committed module is stale
    python scripts/generate_models.py --spec PATH   read the document from PATH

The document is read from ``../shared/spectron/openapi.json`` beside the repository unless
``--spec`` says otherwise. Standard library only. The output is ruff-format clean by
construction: a construct that fits in 100 columns is written on one line, and one that does not
is exploded one item a line with a magic trailing comma, a form ``ruff format`` leaves alone.
Anything in the document this script does not understand stops it with an error rather than
producing a guess.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import keyword
import os
import re
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = ROOT.parent / "shared" / "spectron" / "openapi.json"
TARGET = ROOT / "pytest_spectron" / "client" / "models.py"

LINE_LENGTH = 100
INDENT = "    "
SCOPE_SETS = "ScopeSets"
"""The one schema with a hand-written normaliser (``_scopes.read_scope_sets``)."""

BASE_NAMES = ("RequestModel", "ResponseModel", "SpectronModel")
OPEN_UNION_NAMES = ("UNKNOWN_TAG", "open_discriminator")
"""What ``_base`` gives a response union that must accept shapes a newer Spectron adds."""
SCOPES_EXPORTS = ("ScopeSelector",)
NOT_NULL = "NOT_NULL"
"""The generated table of request fields that are optional yet never ``null``."""

# Attribute names a model cannot use as they are: BaseModel's own attributes (pydantic warns, or
# breaks, when a field shadows one), RequestModel.to_wire, and the names the module's annotations
# use (with postponed annotations a field named ``str`` would shadow the type for later fields).
RESERVED_ATTRIBUTES = frozenset(
    {
        "construct",
        "copy",
        "dict",
        "fields",
        "from_orm",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "to_wire",
        "update_forward_refs",
        "validate",
        "Annotated",
        "Any",
        "BeforeValidator",
        "Field",
        "Literal",
        "TypeAlias",
        "bool",
        "bytes",
        "float",
        "int",
        "list",
        "str",
    }
)

# Keywords a schema may carry; any other stops the generator, so a new construct is noticed.
KNOWN_KEYWORDS = frozenset(
    {
        "$ref",
        "additionalProperties",
        "allOf",
        "anyOf",
        "const",
        "default",
        "deprecated",
        "description",
        "enum",
        "example",
        "examples",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "format",
        "items",
        "maxItems",
        "maxLength",
        "maximum",
        "minItems",
        "minLength",
        "minimum",
        "oneOf",
        "pattern",
        "properties",
        "propertyNames",
        "readOnly",
        "required",
        "title",
        "type",
        "writeOnly",
    }
)
FORMAT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
"""The range of each integer format the document uses."""
CONSTRAINTS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_length",
    "maxItems": "max_length",
    "pattern": "pattern",
}
SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


class GeneratorError(Exception):
    """The document holds something this generator does not know how to model."""


# --- Names and text ------------------------------------------------------------------------------


def class_name(schema_name: str) -> str:
    """The Python name of a schema: its document name without a trailing ``Json``."""
    name = schema_name.removesuffix("Json")
    if not name.isidentifier():
        raise GeneratorError(f"schema {schema_name!r} does not make a Python name")
    return name


def snake_case(wire_name: str) -> str:
    """``documentIds`` → ``document_ids``; ``sourceURL`` → ``source_url``."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", wire_name)
    return re.sub(r"\W", "_", name).lower()


def attribute_name(wire_name: str, module_names: set[str]) -> str:
    """The attribute for a wire name: snake_case, with a trailing ``_`` where it would clash."""
    name = snake_case(wire_name).lstrip("_")
    if not name.isidentifier():
        raise GeneratorError(f"property {wire_name!r} does not make a Python name")
    if (
        keyword.iskeyword(name)
        or name in RESERVED_ATTRIBUTES
        or name in module_names
        or name.startswith("model_")
    ):
        name += "_"
    return name


_RUSTDOC_LINK = re.compile(r"\[`(?:crate::(?:\w+::)*)?([^`\]]+)`\](?:\([^)]*\))?")  # [`Doc`]
# Project bookkeeping at the start: "Phase 6.5 — ", "W5a: ", "§15 operational signal (#174): ".
_BOOKKEEPING = re.compile(
    r"^(?:Phase [\w.]+|W\d+\w*|§[\d.]+(?: operational signals?)?(?: \(#\d+\))?)\s*[—:,]\s*"
)
_CODE_SPAN = re.compile(r"(`[^`]*`)")
_PROSE = [  # applied outside code spans only
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\*\*([^*]+)\*\*"), r"\1"),  # **bold**
    (re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])"), r"\1"),  # *emphasis*
    (re.compile(r"\s*\((?:[\w-]+ )?(?:§[\d.]+|#\d+|Phase [\w.]+)\)"), ""),  # (design §4), (#229)
]
# Typography ruff calls ambiguous (RUF001-003), made plain.
_PLAIN = str.maketrans({"\u2013": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_SENTENCE_END = re.compile(
    r"(?<!\b[eE]\.g)(?<!\b[iI]\.e)(?<!\bcf)(?<!\betc)(?<!\bvs)[.!?](?=\s+[A-Z`])"
)


def first_sentence(description: str | None) -> str | None:
    """The first sentence of a description, markdown and bookkeeping stripped, or None.

    Code spans become reStructuredText literals (double backticks), as elsewhere in the package.
    """
    if not description or not description.strip():
        return None
    paragraph = re.split(r"\n\s*\n", description.strip(), maxsplit=1)[0]
    text = _BOOKKEEPING.sub("", _RUSTDOC_LINK.sub(r"`\1`", " ".join(paragraph.split())))
    pieces = _CODE_SPAN.split(text)
    for index, piece in enumerate(pieces):
        if index % 2:
            pieces[index] = f"`{piece}`"
        else:
            for pattern, replacement in _PROSE:
                piece = pattern.sub(replacement, piece)
            pieces[index] = piece
    text = "".join(pieces).translate(_PLAIN).strip()
    match = _SENTENCE_END.search(text)
    if match:
        text = text[: match.end()]
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!?:":
        text += "."
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def docstring(text: str, indent: str) -> list[str]:
    """A docstring at ``indent``: on one line if it fits, else wrapped with the quotes alone."""
    one_line = f'{indent}"""{text}"""'
    if len(one_line) <= LINE_LENGTH:
        return [one_line]
    lines = textwrap.wrap(
        text,
        width=LINE_LENGTH - len(indent),
        initial_indent='"""',
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [indent + line for line in lines] + [f'{indent}"""']


def comment(text: str) -> list[str]:
    """A top-level ``#`` comment, wrapped at the line length."""
    return textwrap.wrap(
        text.replace("\\\\", "\\"),
        width=LINE_LENGTH,
        initial_indent="# ",
        subsequent_indent="# ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def bracketed(head: str, items: list[str], tail: str, indent: str = "") -> list[str]:
    """``head`` + items + ``tail`` on one line if it fits, else one item a line, trailing comma."""
    flat = f"{indent}{head}{', '.join(items)}{tail}"
    if len(flat) <= LINE_LENGTH:
        return [flat]
    lines = [f"{indent}{head}", *(f"{indent}{INDENT}{item}," for item in items), indent + tail]
    too_long = [line for line in lines if len(line) > LINE_LENGTH]
    if too_long:
        raise GeneratorError(f"cannot fit in {LINE_LENGTH} columns: {too_long[0].strip()}")
    return lines


def import_lines(module: str, names: list[str]) -> list[str]:
    """``from module import names``, parenthesised one name a line when it is too long."""
    if not names:
        return []
    flat = f"from {module} import {', '.join(names)}"
    return [flat] if len(flat) <= LINE_LENGTH else bracketed(f"from {module} import (", names, ")")


def isort_key(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions: the order ruff keeps imports and ``__all__`` in."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def literal(value: Any) -> str:
    """A Python literal for a JSON scalar, strings double-quoted as ruff format wants them."""
    return json.dumps(value, ensure_ascii=False)


# --- The document --------------------------------------------------------------------------------


def refs_in(node: Any) -> Iterator[str]:
    """The schema names every ``$ref`` under ``node`` points at."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#/components/schemas/"):
                raise GeneratorError(f"unsupported $ref {ref!r}")
            yield ref.rsplit("/", 1)[1]
        for value in node.values():
            yield from refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs_in(value)


def reachable(schemas: dict[str, Any], roots: set[str]) -> set[str]:
    """Every schema reachable from ``roots`` through ``$ref``, the roots included."""
    seen: set[str] = set()
    stack = sorted(roots)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(refs_in(schemas[name]))
    return seen


def body_roots(document: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The schemas request bodies refer to, and those responses refer to (errors included)."""
    requests: set[str] = set()
    responses: set[str] = set()
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                requests.update(refs_in(operation.get("requestBody", {})))
                responses.update(refs_in(operation.get("responses", {})))
    return requests, responses


def is_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" and set(schema) <= {"type", "description"}


def is_nullable_wrapper(schema: dict[str, Any]) -> bool:
    """``oneOf: [{type: null}, X]``: the document's way of writing an optional reference."""
    branches: list[dict[str, Any]] = schema.get("oneOf") or schema.get("anyOf") or []
    return len(branches) == 2 and any(is_null(b) for b in branches)


def is_model(schema: dict[str, Any]) -> bool:
    """Whether ``schema`` becomes a class or a union of classes rather than a type alias."""
    is_union = "oneOf" in schema and not is_nullable_wrapper(schema)
    return is_union or (schema.get("type") == "object" and "properties" in schema)


# --- The model of the module ---------------------------------------------------------------------


@dataclass
class TypeText:
    """A rendered annotation: its union members, whether it admits None, its constraints."""

    members: list[str]
    nullable: bool = False
    constraints: dict[str, Any] = field(default_factory=dict)

    def annotation(self, *, optional: bool = False) -> str:
        members = list(dict.fromkeys(self.members))
        if (self.nullable or optional) and members != ["Any"]:
            members.append("None")
        return " | ".join(members)


@dataclass
class FieldDef:
    attribute: str
    wire_name: str
    annotation: str
    required: bool
    constraints: dict[str, Any]
    doc: str | None
    nullable: bool = True
    """Whether the document lets the field be JSON ``null``."""

    def lines(self) -> list[str]:
        head = f"{INDENT}{self.attribute}: {self.annotation}"
        arguments = [] if self.required else ["default=None"]
        if self.attribute != self.wire_name:
            arguments.append(f"alias={json.dumps(self.wire_name)}")
        arguments += [f"{key}={value!r}" for key, value in self.constraints.items()]
        if arguments == ["default=None"]:
            lines = [f"{head} = None"]
        elif arguments:
            lines = bracketed(f"{head} = Field(", arguments, ")")
            if len(lines) > 1:
                lines[-1] = INDENT + lines[-1]
                lines[1:-1] = [INDENT + line for line in lines[1:-1]]
        else:
            lines = [head]
        if len(lines[0]) > LINE_LENGTH:
            raise GeneratorError(f"cannot fit in {LINE_LENGTH} columns: {lines[0].strip()}")
        if self.doc:
            lines += docstring(self.doc, INDENT)
        return lines


@dataclass
class Definition:
    """One top-level name of the generated module."""

    name: str
    schema_name: str
    kind: str  # "alias" or "class"
    depends_on: set[str]
    lines: list[str]


class Generator:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
        self.names = {schema: class_name(schema) for schema in self.schemas}
        if len(set(self.names.values())) != len(self.names):
            raise GeneratorError("two schemas map to the same Python name")
        requests, responses = body_roots(document)
        self.request_schemas = reachable(self.schemas, requests)
        self.response_schemas = reachable(self.schemas, responses)
        self.module_names = set(self.names.values()) | set(BASE_NAMES) | set(SCOPES_EXPORTS)
        self.uses: set[str] = set()  # typing / pydantic names the module needs
        self.definitions: dict[str, Definition] = {}
        self.not_null: dict[str, list[str]] = {}  # request class -> optional non-null fields

    # Types.

    def render(self, schema: dict[str, Any], where: str, *, response: bool = False) -> TypeText:
        """The annotation of ``schema``; ``response`` opens it to what a newer Spectron may send.

        A response type admits any string where the document lists enum values, and none of the
        document's limits (``minimum``, ``maxLength``…): a newer server that adds a value or
        widens a range must not turn its answers into decode errors. Requests keep both, so a
        wrong argument still fails before anything is sent.
        """
        unknown = set(schema) - KNOWN_KEYWORDS
        if unknown:
            raise GeneratorError(f"{where}: unsupported keywords {sorted(unknown)}")
        if "$ref" in schema:
            return self.reference(next(refs_in({"$ref": schema["$ref"]})), response=response)
        for combinator in ("oneOf", "anyOf"):
            if combinator in schema:
                branches = schema[combinator]
                result = TypeText([], nullable=any(is_null(b) for b in branches))
                for index, branch in enumerate(b for b in branches if not is_null(b)):
                    branch_where = f"{where}.{combinator}[{index}]"
                    rendered = self.render(branch, branch_where, response=response)
                    result.members.append(self.nested(rendered, optional=False))
                    result.nullable |= rendered.nullable
                return result
        if "allOf" in schema:
            if len(schema["allOf"]) != 1:
                raise GeneratorError(f"{where}: allOf with several members")
            return self.render(schema["allOf"][0], f"{where}.allOf[0]", response=response)
        types = schema.get("type")
        type_list = types if isinstance(types, list) else [types] if types else []
        nullable = "null" in type_list
        type_list = [t for t in type_list if t != "null"]
        limits = {} if response else schema
        constraints = {CONSTRAINTS[k]: limits[k] for k in CONSTRAINTS if k in limits}
        if limits.get("format") in FORMAT_BOUNDS:
            # A request's integer fits its format: Spectron refuses 2**31 for an int32.
            low, high = FORMAT_BOUNDS[limits["format"]]
            constraints.setdefault("ge", low)
            constraints.setdefault("le", high)
        if "const" in schema or "enum" in schema:
            values = [schema["const"]] if "const" in schema else schema["enum"]
            nullable |= None in values
            self.uses.add("Literal")
            members = ", ".join(literal(v) for v in values if v is not None)
            return TypeText([f"Literal[{members}]", *(["str"] if response else [])], nullable)
        if not type_list:
            if set(schema) - {"description", "title", "example", "examples", "default"}:
                raise GeneratorError(f"{where}: a schema without a type: {schema}")
            self.uses.add("Any")
            return TypeText(["Any"], nullable)
        if len(type_list) > 1:
            raise GeneratorError(f"{where}: several types {type_list}")
        (kind,) = type_list
        if kind == "string":
            text = "bytes" if schema.get("format") == "binary" else "str"
        elif kind in SCALARS:
            text = SCALARS[kind]
        elif kind == "array":
            items = schema.get("items")
            if items:
                item = self.nested(self.render(items, f"{where}[]", response=response))
            else:
                item = "Any"
                self.uses.add("Any")
            text = f"list[{item}]"
        elif kind == "object":
            if schema.get("properties"):
                raise GeneratorError(f"{where}: an inline object with properties")
            values = schema.get("additionalProperties", True)
            if isinstance(values, dict) and values:
                rendered = self.render(values, f"{where}{{}}", response=response)
                text = f"dict[str, {self.nested(rendered)}]"
            elif values is False:
                raise GeneratorError(f"{where}: an object that admits no properties")
            else:
                self.uses.add("Any")
                text = "dict[str, Any]"
        else:
            raise GeneratorError(f"{where}: unsupported type {kind!r}")
        return TypeText([text], nullable, constraints)

    def reference(self, schema_name: str, *, response: bool) -> TypeText:
        """The annotation of a ``$ref``: the target's name, opened where a response needs it."""
        name = self.names[schema_name]
        schema = self.schemas[schema_name]
        if not response or schema_name == SCOPE_SETS or is_model(schema):
            return TypeText([name])
        if "enum" in schema:
            # The alias stays closed for requests; a response also takes a newer server's values.
            return TypeText([name, "str"])
        opened = self.render(schema, schema_name, response=True)
        # An alias with limits of its own is written out without them.
        return opened if opened != self.render(schema, schema_name) else TypeText([name])

    def nested(self, rendered: TypeText, *, optional: bool = False) -> str:
        """An annotation inside another one: constraints travel in ``Annotated``."""
        if not rendered.constraints:
            return rendered.annotation(optional=optional)
        self.uses.update(("Annotated", "Field"))
        arguments = ", ".join(f"{k}={v!r}" for k, v in rendered.constraints.items())
        inner = " | ".join(dict.fromkeys(rendered.members))
        text = f"Annotated[{inner}, Field({arguments})]"
        return f"{text} | None" if rendered.nullable or optional else text

    # Definitions.

    def base_class(self, schema_name: str) -> str:
        in_requests = schema_name in self.request_schemas
        in_responses = schema_name in self.response_schemas
        return "RequestModel" if in_requests and not in_responses else "ResponseModel"

    def fields(
        self, schema: dict[str, Any], where: str, *, response: bool, tag: str | None = None
    ) -> list[FieldDef]:
        """The fields of an object schema; a union's ``tag`` property stays closed."""
        required = set(schema.get("required", []))
        missing = required - set(schema.get("properties", {}))
        if missing:
            raise GeneratorError(f"{where}: required but not defined: {sorted(missing)}")
        fields: list[FieldDef] = []
        for wire_name, property_schema in schema.get("properties", {}).items():
            opened = response and wire_name != tag
            rendered = self.render(property_schema, f"{where}.{wire_name}", response=opened)
            description = property_schema.get("description")
            if description is None and is_nullable_wrapper(property_schema):
                branches = property_schema.get("oneOf") or property_schema["anyOf"]
                description = next(b.get("description") for b in branches if not is_null(b))
            is_required = wire_name in required
            if rendered.constraints:
                self.uses.add("Field")
            fields.append(
                FieldDef(
                    attribute=attribute_name(wire_name, self.module_names),
                    wire_name=wire_name,
                    annotation=rendered.annotation(optional=not is_required),
                    required=is_required,
                    constraints=rendered.constraints,
                    doc=first_sentence(description),
                    nullable=rendered.nullable or self.admits_null(property_schema),
                )
            )
        attributes = [f.attribute for f in fields]
        if len(set(attributes)) != len(attributes):
            raise GeneratorError(f"{where}: two properties map to one attribute: {attributes}")
        if any(f.attribute != f.wire_name for f in fields):
            self.uses.add("Field")
        return fields

    def admits_null(self, schema: dict[str, Any]) -> bool:
        """Whether ``schema`` (or the schema it references) takes JSON ``null``."""
        if "$ref" in schema:
            schema = self.schemas[next(refs_in({"$ref": schema["$ref"]}))]
        types = schema.get("type")
        type_list = types if isinstance(types, list) else [types] if types else []
        branches = schema.get("oneOf") or schema.get("anyOf") or []
        untyped = not type_list and not branches and "enum" not in schema and "const" not in schema
        return (
            untyped
            or "null" in type_list
            or None in schema.get("enum", [])
            or any(is_null(branch) for branch in branches)
        )

    def model_class(
        self,
        name: str,
        schema_name: str,
        schema: dict[str, Any],
        base: str,
        doc: str,
        tag: str | None = None,
    ) -> Definition:
        lines = [f"class {name}({base}):", *docstring(doc, INDENT)]
        body = self.fields(schema, schema_name, response=base == "ResponseModel", tag=tag)
        never_null = [f.wire_name for f in body if not f.required and not f.nullable]
        if base == "RequestModel" and never_null:
            self.not_null[name] = never_null
        if body:
            lines.append("")
        for field_def in body:
            lines += field_def.lines()
        return Definition(name, schema_name, "class", self.depends_on(schema), lines)

    def depends_on(self, schema: Any) -> set[str]:
        return {self.names[ref] for ref in refs_in(schema)}

    def alias(self, name: str, schema_name: str, value: list[str], depends_on: set[str]) -> None:
        self.uses.add("TypeAlias")
        text = first_sentence(self.schemas[schema_name].get("description"))
        lines = comment(text) if text else []
        lines += value
        self.definitions[name] = Definition(name, schema_name, "alias", depends_on, lines)

    def define(self, schema_name: str) -> None:
        schema = self.schemas[schema_name]
        name = self.names[schema_name]
        description = first_sentence(schema.get("description"))
        head = f"{name}: TypeAlias = "
        if schema_name == SCOPE_SETS:
            expected = {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}
            if {k: v for k, v in schema.items() if k != "description"} != expected:
                raise GeneratorError(f"{SCOPE_SETS} changed shape; update _scopes.py first")
            self.uses.update(("Annotated", "BeforeValidator"))
            value = "Annotated[list[list[str]], BeforeValidator(read_scope_sets)]"
            self.alias(name, schema_name, [head + value], set())
        elif "oneOf" in schema and not is_nullable_wrapper(schema):
            self.discriminated_union(schema_name, schema)
        elif schema.get("type") == "object" and "properties" in schema:
            doc = description or f"``{schema_name}`` from the Spectron API."
            base = self.base_class(schema_name)
            self.definitions[name] = self.model_class(name, schema_name, schema, base, doc)
        elif "enum" in schema:
            rendered = self.render(schema, schema_name)
            values = [literal(v) for v in schema["enum"] if v is not None]
            lines = bracketed(f"{head}Literal[", values, "]" + " | None" * rendered.nullable)
            self.alias(name, schema_name, lines, set())
        else:
            rendered = self.render(schema, schema_name)
            value = self.nested(rendered)
            line = head + value
            if len(line) > LINE_LENGTH:
                raise GeneratorError(f"cannot fit in {LINE_LENGTH} columns: {line}")
            self.alias(name, schema_name, [line], self.depends_on(schema))

    def discriminated_union(self, schema_name: str, schema: dict[str, Any]) -> None:
        """A ``oneOf`` of inline objects told apart by a one-value enum property, e.g. ``kind``.

        A response union also gets a catch-all shape for the tag values it does not know, so an
        answer of a kind a newer Spectron adds keeps its fields instead of failing to decode.
        """
        name = self.names[schema_name]
        variants = schema["oneOf"]
        if not all(v.get("type") == "object" and "properties" in v for v in variants):
            raise GeneratorError(f"{schema_name}: a oneOf that is not of inline objects")
        candidates = set.intersection(*(set(v.get("required", [])) for v in variants))
        tags = sorted(
            prop
            for prop in candidates
            if all(len(v["properties"][prop].get("enum", [])) == 1 for v in variants)
        )
        if len(tags) != 1:
            raise GeneratorError(f"{schema_name}: no single discriminating property in oneOf")
        (tag,) = tags
        prefix = name.removesuffix("Response")
        base = self.base_class(schema_name)
        shapes: dict[str, str] = {}  # tag value -> class name
        for variant in variants:
            value = variant["properties"][tag]["enum"][0]
            words = re.split(r"[^0-9A-Za-z]+", value)
            member = self.new_name(schema_name, prefix + "".join(w.title() for w in words))
            doc = f'``{name}`` when ``{tag}`` is ``"{value}"``.'
            self.definitions[member] = self.model_class(
                member, schema_name, variant, base, doc, tag=tag
            )
            shapes[value] = member
        members = list(shapes.values())
        self.uses.update(("Annotated", "TypeAlias"))
        doc = f"``{schema_name}`` from the Spectron API: {len(shapes)} shapes, told by ``{tag}``"
        if base == "RequestModel":
            self.uses.add("Field")
            lines = [
                *comment(f"{doc}."),
                f"{name}: TypeAlias = Annotated[",
                f"{INDENT}{' | '.join(members)},",
                f'{INDENT}Field(discriminator="{tag}"),',
                "]",
            ]
        else:
            if attribute_name(tag, self.module_names) != tag:
                # open_discriminator reads the tag under one name from dicts and models alike.
                raise GeneratorError(f"{schema_name}: tag {tag!r} is not a plain attribute name")
            unknown = self.new_name(schema_name, prefix + "Unknown")
            self.definitions[unknown] = self.unknown_shape(unknown, schema_name, tag)
            members.append(unknown)
            self.uses.add("Tag")
            tagged = [f"Annotated[{cls}, Tag({literal(value)})]" for value, cls in shapes.items()]
            tagged.append(f"Annotated[{unknown}, Tag(UNKNOWN_TAG)]")
            doc += f"; any other ``{tag}`` (a newer Spectron's) makes an ``{unknown}``."
            lines = [
                *comment(doc),
                f"{name}: TypeAlias = Annotated[",
                f"{INDENT}{tagged[0]}",
                *(f"{INDENT}| {item}" for item in tagged[1:-1]),
                f"{INDENT}| {tagged[-1]},",
                f"{INDENT}open_discriminator({', '.join(literal(v) for v in [tag, *shapes])}),",
                "]",
            ]
        if any(len(line) > LINE_LENGTH for line in lines):
            raise GeneratorError(f"{schema_name}: the union does not fit in {LINE_LENGTH} columns")
        self.definitions[name] = Definition(name, schema_name, "alias", set(members), lines)

    def new_name(self, schema_name: str, name: str) -> str:
        """``name`` reserved for a class generated for ``schema_name``; an error if it is taken."""
        if name in self.module_names:
            raise GeneratorError(f"{schema_name}: the name {name} is taken")
        self.module_names.add(name)
        return name

    def unknown_shape(self, name: str, schema_name: str, tag: str) -> Definition:
        """The catch-all class of a response union: its tag, and every other field as extra."""
        doc = (
            f"``{self.names[schema_name]}`` of a ``{tag}`` this client does not know, as a newer "
            f"Spectron may send: every field but ``{tag}`` is kept in ``model_extra``."
        )
        lines = [f"class {name}(ResponseModel):", *docstring(doc, INDENT), ""]
        lines += FieldDef(tag, tag, "str", True, {}, None).lines()
        return Definition(name, schema_name, "class", set(), lines)

    # The module.

    def ordered(self) -> list[Definition]:
        """Plain aliases first, by name; then classes and unions, each after what it uses."""
        aliases = sorted(
            (d for d in self.definitions.values() if d.kind == "alias" and not d.depends_on),
            key=lambda d: d.name,
        )
        done = {d.name for d in aliases}
        order = list(aliases)
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in done:
                return
            if name in visiting:
                raise GeneratorError(f"a reference cycle through {name}; add model_rebuild()")
            visiting.add(name)
            definition = self.definitions[name]
            for dependency in sorted(definition.depends_on):
                visit(dependency)
            visiting.discard(name)
            done.add(name)
            order.append(definition)

        for name in sorted(self.definitions):
            visit(name)
        return order

    def module(self) -> str:
        for schema_name in sorted(self.schemas):
            self.define(schema_name)
        definitions = self.ordered()
        info = self.document.get("info", {})
        title = info.get("title", "the API")
        version = info.get("version", "unknown")
        openapi = self.document.get("openapi", "?")
        typing_names = sorted(self.uses & {"Annotated", "Any", "Literal", "TypeAlias"})
        pydantic_names = sorted(self.uses & {"BeforeValidator", "Field", "Tag"})
        base_names = sorted(
            [*BASE_NAMES, *(OPEN_UNION_NAMES if "Tag" in self.uses else ())], key=isort_key
        )
        scopes_names = sorted(
            [*SCOPES_EXPORTS, *(["read_scope_sets"] if SCOPE_SETS in self.schemas else [])]
        )
        extras = [NOT_NULL] if self.not_null else []
        public = sorted(
            {*BASE_NAMES, *SCOPES_EXPORTS, *extras, *(d.name for d in definitions)},
            key=isort_key,
        )
        out = [
            "# GENERATED by scripts/generate_models.py from Spectron's OpenAPI document",
            f"# ({title} {version}, OpenAPI {openapi}): do not edit by hand.",
            f"# Document sha256: {document_digest(self.document)}",
            "# Regenerate with `python scripts/generate_models.py`; `--check` exits 1 when stale",
            "# (a changed document, a changed generator, or a hand edit).",
            '"""The pydantic models of every schema in Spectron\'s OpenAPI document.',
            "",
            "Attributes are snake_case; the document's spelling is each field's alias and what",
            "goes on the wire. Request models forbid unknown fields, check the document's enums",
            "and limits, and serialise with ``to_wire()``. Response models accept what a newer",
            "server may send: they keep unknown fields, take any string where the document lists",
            "enum values, give a union's unknown shapes a catch-all class, and leave limits",
            "unchecked. ``RequestModel``, ``ResponseModel`` and ``SpectronModel`` come from",
            "``_base``, scope selectors from ``_scopes``.",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            *import_lines("typing", typing_names),
            "",
            *import_lines("pydantic", pydantic_names),
            "",
            *import_lines("pytest_spectron.client._base", base_names),
            *import_lines("pytest_spectron.client._scopes", scopes_names),
            "",
            "__all__ = [",
            *(f'{INDENT}"{name}",' for name in public),
            "]",
        ]
        out = [line for i, line in enumerate(out) if line or out[i - 1]]  # no doubled blanks
        previous_kind = None
        for definition in definitions:
            blank_lines = 1 if previous_kind == definition.kind == "alias" else 2
            out += [""] * blank_lines + definition.lines
            previous_kind = definition.kind
        if self.not_null:
            out += ["", "", f"{NOT_NULL}: dict[type[RequestModel], frozenset[str]] = {{"]
            for name, wire_names in sorted(self.not_null.items()):
                listed = [json.dumps(wire_name) for wire_name in sorted(wire_names)]
                line = f"{INDENT}{name}: frozenset({{{', '.join(listed)}}}),"
                if len(line) <= LINE_LENGTH:
                    out.append(line)
                    continue
                # As ruff format writes a set too long for one line inside a call.
                out += [f"{INDENT}{name}: frozenset(", f"{INDENT * 2}{{"]
                out += [f"{INDENT * 3}{wire_name}," for wire_name in listed]
                out += [f"{INDENT * 2}}}", f"{INDENT}),"]
            out += [
                "}",
                '"""Each request model with optional fields the document never lets be JSON',
                "``null``: their wire names. A server reading a request as the document types",
                'it refuses ``null`` there."""',
            ]
        return "\n".join(out) + "\n"


def document_digest(document: dict[str, Any]) -> str:
    """The sha256 of the document's content (canonical JSON): layout changes do not move it."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def generate(document: dict[str, Any]) -> str:
    """The text of ``models.py`` for ``document``."""
    return Generator(document).module()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the OpenAPI document")
    parser.add_argument("--output", type=Path, default=TARGET, help=argparse.SUPPRESS)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the module is stale"
    )
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        if args.check and os.environ.get("CI") != "true":
            # A clone without ../shared can still lint; CI, which has it, must not skip.
            print(f"skipped: no OpenAPI document at {args.spec} to check models.py against")
            return 0
        print(f"error: no OpenAPI document at {args.spec} (pass --spec PATH)", file=sys.stderr)
        return 2
    try:
        text = generate(json.loads(args.spec.read_text(encoding="utf-8")))
    except GeneratorError as error:
        print(f"error: {args.spec}: {error}", file=sys.stderr)
        return 2
    output: Path = args.output
    shown = output.relative_to(ROOT) if output.is_relative_to(ROOT) else output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else ""
        if current == text:
            print(f"{shown} is up to date with {args.spec}")
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"{shown} (committed)",
            f"{shown} (generated)",
            n=1,
        )
        sys.stderr.writelines(list(diff)[:60])
        print(
            f"\n{shown} is stale: run `python scripts/generate_models.py` and commit the result",
            file=sys.stderr,
        )
        return 1
    output.write_text(text, encoding="utf-8")
    print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
