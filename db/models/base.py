"""What several tables share: the UTC clock default, FHIR row identity, and a coded value."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.clock import utcnow

__all__ = ["CodedValue", "FhirRow", "utcnow"]


class FhirRow(SQLModel):
    """Columns every FHIR-sourced table shares."""

    source: str = Field(default="ehr", max_length=64)
    fhir_id: str = Field(max_length=64)
    version_id: str | None = Field(default=None, max_length=64)
    last_updated: datetime | None = None


class CodedValue(SQLModel):
    """A FHIR CodeableConcept flattened to its first coding: the code, its system, and the text
    shown to people. A table whose code is required (Observation) narrows ``code``."""

    code_system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=500)
