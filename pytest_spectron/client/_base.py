"""The base classes of every Spectron model: wire names, strict requests, lenient responses.

``models.py`` is generated from Spectron's OpenAPI document; its classes derive from these.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Discriminator

__all__ = ["UNKNOWN_TAG", "RequestModel", "ResponseModel", "SpectronModel", "open_discriminator"]

UNKNOWN_TAG: Final = "<unknown>"
"""The tag of a response union's catch-all shape, which no value on the wire can name."""


class SpectronModel(BaseModel):
    """Base of every Spectron model: snake_case attributes, the document's names on the wire.

    A model is built from either spelling (``session_id=`` or ``sessionId=``) and always
    serialises with the wire names.
    """

    # Validators are built on a model's first use, not at import: a test session pays only for
    # the models it touches. Attribute docstrings are for readers and IDEs, not copied into
    # field descriptions: reading them back means parsing each class's source at import.
    model_config = ConfigDict(
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=False,
        defer_build=True,
    )


class RequestModel(SpectronModel):
    """A request body: an unknown field is an error at once, before anything is sent."""

    model_config = ConfigDict(extra="forbid")

    def to_wire(self) -> dict[str, Any]:
        """The JSON body to send: wire names, no ``None`` (absent means the server default)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ResponseModel(SpectronModel):
    """A response body: fields a newer server adds are kept in ``model_extra``, never an error."""

    model_config = ConfigDict(extra="allow")


def open_discriminator(field: str, *known: str) -> Discriminator:
    """Tell a response union's shapes apart by ``field``; a value not in ``known`` is no error.

    A newer Spectron may answer with a shape this client does not know yet: it validates as
    the shape tagged ``UNKNOWN_TAG``, which keeps every field. A value without ``field`` (or with
    a non-string one) is no shape at all, and fails validation naming the discriminator.
    """

    def tag(value: Any) -> str | None:
        found = value.get(field) if isinstance(value, dict) else getattr(value, field, None)
        if not isinstance(found, str):
            return None
        return found if found in known else UNKNOWN_TAG

    return Discriminator(tag)
