"""Apple Health ``export.xml``: streamed, so a file of hundreds of MB is read in bounded memory.

``iterparse`` hands over each element as it ends; a top-level record is turned into a reading
and then the root is cleared, so the parsed tree never grows. Blood pressure arrives as a
systolic and a diastolic record (inside a correlation, and in many exports also at top level);
the two halves are paired by their time and device, and the repeat is caught as a duplicate.

Expat 2.4.1+ (bundled with the supported Pythons) refuses entity-expansion bombs, and
ElementTree never fetches external entities, so an uploaded file cannot make the parser read
the server's files or exhaust its memory.
"""

import io
import xml.etree.ElementTree as ET  # noqa: S405 (safe with expat >= 2.4.1; see docstring)
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, TYPE_CHECKING

from portal.services.readings import units
from portal.services.readings.entry import ImportBudget, ImportRefused, ReadingInput, Refusal

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer  # what RawIOBase.readinto is given (typing only)

QUANTITY_TYPES = {
    "HKQuantityTypeIdentifierBodyMass": units.WEIGHT,
    "HKQuantityTypeIdentifierBloodGlucose": units.GLUCOSE,
    "HKQuantityTypeIdentifierHeartRate": units.HEART_RATE,
    "HKQuantityTypeIdentifierRestingHeartRate": units.HEART_RATE,
    "HKQuantityTypeIdentifierStepCount": units.STEPS,
    "HKQuantityTypeIdentifierOxygenSaturation": units.SPO2,
}
SYSTOLIC = "HKQuantityTypeIdentifierBloodPressureSystolic"
DIASTOLIC = "HKQuantityTypeIdentifierBloodPressureDiastolic"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
# Unpaired blood-pressure halves waiting for their partner; a bound keeps a malformed file with
# millions of lone halves from growing memory.
MAX_PENDING = 10_000
# Apple's own "Export All Health Data" makes export.zip; its export.xml is read straight out of
# the archive without unpacking it to disk. The cap stops a zip bomb from running for hours.
MAX_XML_BYTES = 1024**3


class _Bounded(io.RawIOBase):
    """Reads at most ``limit`` bytes from a stream, then refuses: counts what is really
    decompressed, whatever size the zip's directory claims."""

    def __init__(self, stream: IO[bytes], limit: int):
        self.stream = stream
        self.limit = limit
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: "WriteableBuffer") -> int:
        view = memoryview(target)  # BufferedReader passes a memoryview already
        try:
            chunk = self.stream.read(len(view))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
            raise ImportRefused("the zip archive is damaged; please export again.") from None
        self.consumed += len(chunk)
        if self.consumed > self.limit:
            raise ImportRefused(
                f"the export holds more than {self.limit // 1024**2:,} MB of data, the most "
                "one import reads. Please export a shorter period."
            )
        view[: len(chunk)] = chunk
        return len(chunk)


@contextmanager
def export_stream(
    upload: IO[bytes], filename: str, *, max_xml_bytes: int = MAX_XML_BYTES
) -> Iterator[IO[bytes]]:
    """The export.xml inside an uploaded export.zip (streamed), or the upload itself."""
    if not filename.lower().endswith(".zip"):
        yield upload
        return
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError):
        # NotImplementedError: a zip version or feature Python cannot read.
        raise ImportRefused("the file is not a valid zip archive.") from None
    with archive:
        member = next(
            (
                info
                for info in archive.infolist()
                if info.filename == "export.xml" or info.filename.endswith("/export.xml")
            ),
            None,
        )
        if member is None:
            raise ImportRefused(
                "the zip has no export.xml. In the Health app, use 'Export All Health Data'."
            )
        if member.file_size > max_xml_bytes:
            raise ImportRefused(
                f"the export is larger than {max_xml_bytes // 1024**2:,} MB; please export a "
                "shorter period."
            )
        try:
            stream = archive.open(member)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError):
            # NotImplementedError: an unknown compression; RuntimeError: an encrypted member.
            raise ImportRefused("the export.xml in the zip cannot be read.") from None
        with stream:
            yield io.BufferedReader(_Bounded(stream, max_xml_bytes))


class AppleHealthFile:
    """Parse with ``readings()``; afterwards ``skipped`` counts record types not tracked."""

    def __init__(
        self,
        source: IO[bytes] | str,
        *,
        budget: ImportBudget | None = None,
        max_depth: int = 16,
    ):
        self.source = source
        self.budget = budget
        self.max_depth = max_depth
        self.skipped: Counter[str] = Counter()
        self.records_seen = 0

    def readings(self) -> Iterator[ReadingInput | Refusal]:
        """Readings and per-record refusals; a file that is not a whole, sane export raises
        ``ImportRefused`` (the importer then stores none of it)."""
        pending: dict[tuple[str, str, str], dict[str, ET.Element]] = {}
        depth = 0
        root = None
        try:
            for event, elem in ET.iterparse(self.source, events=("start", "end")):  # noqa: S314
                if event == "start":
                    if root is None:
                        root = elem
                    depth += 1
                    if depth > self.max_depth:
                        raise ImportRefused(
                            f"the file nests deeper than {self.max_depth} levels; it is not an "
                            "Apple Health export."
                        )
                    continue
                depth -= 1
                if elem.tag == "Record":
                    self.records_seen += 1
                    if self.budget is not None:
                        self.budget.count()
                    yield from self._record(elem, pending)
                if depth == 1 and root is not None:
                    # A whole top-level element has been handled: drop it (and everything
                    # before it) from the tree.
                    root.clear()
        except LookupError:  # <?xml encoding="..."?> names an encoding Python does not know
            raise ImportRefused("the file declares a text encoding that is not known.") from None
        except ET.ParseError as error:
            raise ImportRefused(
                f"the file is not a complete Apple Health export ({error}). Please export again."
            ) from None
        for (when, _, _), halves in pending.items():
            missing = "diastolic" if SYSTOLIC in halves else "systolic"
            yield Refusal(f"blood pressure at {when}", f"The {missing} number is missing.")

    def _record(
        self, elem: ET.Element, pending: dict[tuple[str, str, str], dict[str, ET.Element]]
    ) -> Iterator[ReadingInput | Refusal]:
        kind = elem.get("type", "")
        where = f"record {self.records_seen} ({kind.removeprefix('HKQuantityTypeIdentifier')})"
        if kind in (SYSTOLIC, DIASTOLIC):
            key = (elem.get("startDate", ""), elem.get("sourceName", ""), elem.get("unit", ""))
            halves = pending.setdefault(key, {})
            # Keep only what is needed, not the element (the tree is cleared under us).
            halves[kind] = ET.Element("Record", dict(elem.attrib))
            if SYSTOLIC in halves and DIASTOLIC in halves:
                del pending[key]
                yield self._blood_pressure(halves[SYSTOLIC], halves[DIASTOLIC], where)
            elif len(pending) > MAX_PENDING:
                (when, _, _), _ = pending.popitem()
                yield Refusal(f"blood pressure at {when}", "Only one of the two numbers was found.")
            return
        measure = QUANTITY_TYPES.get(kind)
        if measure is None:
            self.skipped[kind.removeprefix("HKQuantityTypeIdentifier") or "(no type)"] += 1
            return
        try:
            value = float(elem.get("value", ""))
            taken_at = datetime.strptime(elem.get("startDate", ""), DATE_FORMAT)
        except ValueError:
            yield Refusal(where, "The value or the date could not be read.")
            return
        unit = elem.get("unit", "")
        if measure == units.SPO2 and unit == "%" and value <= 1:
            value *= 100  # Apple Health stores saturation as a fraction with unit "%"
        yield ReadingInput(measure=measure, value=value, unit=unit, taken_at=taken_at, where=where)

    @staticmethod
    def _blood_pressure(
        sys_elem: ET.Element, dia_elem: ET.Element, where: str
    ) -> ReadingInput | Refusal:
        try:
            systolic = float(sys_elem.get("value", ""))
            diastolic = float(dia_elem.get("value", ""))
            taken_at = datetime.strptime(sys_elem.get("startDate", ""), DATE_FORMAT)
        except ValueError:
            return Refusal(where, "The value or the date could not be read.")
        return ReadingInput(
            measure=units.BLOOD_PRESSURE,
            value=systolic,
            value2=diastolic,
            unit=sys_elem.get("unit", "mmHg"),
            taken_at=taken_at,
            where=where,
        )
