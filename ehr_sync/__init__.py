"""FHIR R4 import: resource -> model mappers and the batch importer."""

from ehr_sync.importer import import_bundle, import_resources
from ehr_sync.report import ImportReport, TypeCounts

__all__ = ["ImportReport", "TypeCounts", "import_bundle", "import_resources"]
