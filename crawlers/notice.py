"""The one normalized notice every parser yields (docs/notice.md), validated where it is made.

A notice that breaks a convention (a CPV with its check digit, an alpha-3 country, a repeated code)
is refused here with a message naming the field, so no parser can store a half-normalized record.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

NoticeType = Literal["contract-notice", "prior-information", "award", "change", "other"]
ContractNature = Literal["works", "supplies", "services"]
Procedure = Literal["open", "restricted", "negotiated", "competitive-dialogue", "innovation-partnership", "other"]

_CPV = re.compile(r"\d{8}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_NUTS = re.compile(r"[A-Z]{2}[0-9A-Z]{0,3}")
_SOURCE = re.compile(r"(ted|boamp|be|decp|feed:[a-z0-9][a-z0-9_.-]*)")
_DEADLINE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?)?")

MAX_TEXT = 100_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cpv(value: str) -> str:
    if not _CPV.fullmatch(value):
        raise ValueError(f"CPV code must be 8 digits without check digit, got {value!r}")
    return value


def _nuts(value: str) -> str:
    if not _NUTS.fullmatch(value):
        raise ValueError(f"not a NUTS code: {value!r}")
    return value


def _no_repeats(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError(f"repeated codes in {values}")
    return values


def _deadline(value: str | None) -> str | None:
    if value is None:
        return None
    if not _DEADLINE.fullmatch(value):
        raise ValueError(f"deadline must be ISO 8601 (date, or date and time with offset), got {value!r}")
    datetime.fromisoformat(value)  # rejects impossible dates such as 2026-02-30
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Cpv = Annotated[str, AfterValidator(_cpv)]
Nuts = Annotated[str, AfterValidator(_nuts)]
Country = Annotated[str, Field(pattern=_COUNTRY.pattern)]
Language = Annotated[str, Field(pattern=_LANGUAGE.pattern)]
Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_not_blank)]
Money = Annotated[float, Field(gt=0)]


class _Clean(BaseModel):
    @field_validator("*", mode="before")
    @classmethod
    def _drop_control_characters(cls, value: object) -> object:
        """The control characters XML forbids are dropped from JSON sources too (PostgreSQL cannot store a NUL)."""
        if isinstance(value, str):
            return _CONTROL.sub("", value)
        if isinstance(value, list):
            return [_CONTROL.sub("", item) if isinstance(item, str) else item for item in value]
        return value


class Buyer(_Clean):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    country: Country | None
    id: str | None = None
    town: str | None = None


class Lot(_Clean):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: Text | None = None
    cpv_main: Cpv | None = None
    cpv_additional: Annotated[list[Cpv], AfterValidator(_no_repeats)] = []
    nuts: Annotated[list[Nuts], AfterValidator(_no_repeats)] = []
    estimated_value: Money | None = None


class Winner(_Clean):
    """A firm an award went to; several winners in one award are a group that won together."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(max_length=1000), AfterValidator(_not_blank)]
    country: Country | None = None
    identifier: Annotated[str, Field(max_length=40)] | None = None
    """National number without spaces or dots (BE enterprise number `0123456789`, FR SIRET or SIREN), else the VAT
    number with its country prefix (`BE0123456789`), else null."""
    town: Annotated[str, Field(max_length=300)] | None = None
    sme: bool | None = None


class Award(_Clean):
    """One awarded contract of a result notice (a lot that was not awarded has none)."""

    model_config = ConfigDict(extra="forbid")

    lot_ids: Annotated[list[str], AfterValidator(_no_repeats)] = []
    winners: list[Winner] = []
    value: Annotated[float, Field(ge=0)] | None = None
    currency: Annotated[str, Field(pattern=r"[A-Z]{3}")] | None = None
    tenders_received: Annotated[int, Field(ge=0)] | None = None
    date: dt.date | None = None
    """When the contract was awarded (the award decision or the contract's conclusion)."""


class Notice(_Clean):
    """A publication of a procedure, whatever its source; JSON names as in docs/notice.md."""

    model_config = ConfigDict(extra="forbid")

    source: Annotated[str, Field(pattern=_SOURCE.pattern)]
    source_id: Annotated[str, Field(min_length=1, max_length=300)]
    notice_type: NoticeType
    title: Text
    description: Text | None = None
    buyer: Buyer
    cpv_main: Cpv | None = None
    cpv_additional: Annotated[list[Cpv], AfterValidator(_no_repeats)] = []
    nuts: Annotated[list[Nuts], AfterValidator(_no_repeats)] = []
    contract_nature: ContractNature | None = None
    procedure: Procedure | None = None
    published: date
    deadline: Annotated[str | None, AfterValidator(_deadline)] = None
    estimated_value: Money | None = None
    currency: Annotated[str, Field(pattern=r"[A-Z]{3}")] | None = None
    lots: list[Lot] = Field(min_length=1)
    languages: Annotated[list[Language], AfterValidator(_no_repeats)] = Field(min_length=1)
    url: str | None = None
    documents_url: str | None = None
    related: Annotated[list[str], AfterValidator(_no_repeats)] = []
    awards: list[Award] = []

    @model_validator(mode="after")
    def _consistent(self) -> Notice:
        if self.cpv_main is not None and self.cpv_main in self.cpv_additional:
            raise ValueError(f"cpv_additional repeats cpv_main {self.cpv_main}")
        if (self.estimated_value is None) != (self.currency is None):
            raise ValueError("currency is given exactly when estimated_value is")
        if self.notice_type == "award" and self.deadline is not None:
            raise ValueError("an award notice has no tender deadline")
        lot_ids = [lot.id for lot in self.lots]
        if len(set(lot_ids)) != len(lot_ids):
            raise ValueError(f"repeated lot ids {lot_ids}")
        return self

    def to_json_dict(self) -> dict[str, object]:
        """The §2 JSON object (dates as ISO strings)."""
        return self.model_dump(mode="json")
