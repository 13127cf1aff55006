"""Fuzz the three readings importers (CSV, Apple Health, FHIR bundle) with hypothesis.

    python -m bench.fuzz_imports --minutes 5
    python -m bench.fuzz_imports --minutes 1 --target fhir

The contract each parser must keep, whatever the bytes: yield readings and per-record refusals,
or raise ``ImportRefused`` (the whole file refused in plain words). Any other exception is a
crash: the script shrinks it, prints it and saves the input under var/fuzz/crashes/ to be kept
as a regression test (tests/readings/test_fuzz_regressions.py). Each reading is also put through
``entry.normalise``, which may only refuse with ``InvalidInput``.

Inputs are both raw bytes and structured near-misses built from valid files (real headers,
dates, codes and attributes, with values, nesting and encodings mutated), so the fuzzer reaches
past the first syntax check.
"""

import argparse
import contextlib
import io
import json
import time
import traceback
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.errors import InvalidInput
from portal.services.readings import apple_health, csv_import, entry, fhir_import
from portal.services.readings.entry import ImportBudget, ImportRefused, ReadingInput, Refusal

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
CRASH_DIR = Path(__file__).resolve().parent.parent / "var" / "fuzz" / "crashes"

# --- strategies -------------------------------------------------------------------------------

_weird_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40
) | st.sampled_from(
    [
        "",
        "nan",
        "inf",
        "-inf",
        "1e309",
        "-0",
        "120/80",
        "9" * 400,
        "0001-01-01",
        "9999-12-31T23:59:59",
        "2026-11-20T08:00:00Z",
        "11/20/2026 8:00 PM",
        "\x00",
        "1,000.5",
        "１２０",
        "٣",
    ]
)
_date_text = (
    st.sampled_from(
        [
            "2026-11-20T08:00:00Z",
            "2026-11-20 08:00",
            "11/20/2026",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-12:00",
            "2026-02-30",
            "1899-12-31",
        ]
    )
    | _weird_text
)
_measure_text = st.sampled_from(
    ["weight", "bp", "pulse", "glucose", "steps", "spo2", "blood pressure", "x"]
)
_unit_text = st.sampled_from(["lb", "kg", "mmHg", "kPa", "mmol/L", "mg/dL", "%", "count", ""])


@st.composite
def csv_files(draw) -> bytes:
    header = draw(
        st.sampled_from(["date,measure,value,unit", "date;measure;value;unit", "date\tmeasure"])
    )
    rows = draw(
        st.lists(
            st.tuples(
                _date_text, _measure_text | _weird_text, _weird_text | _unit_text, _unit_text
            ),
            max_size=12,
        )
    )
    sep = "," if "," in header else (";" if ";" in header else "\t")
    quote = draw(st.booleans())
    lines = [header] + [sep.join(f'"{c}"' if quote else c for c in row) for row in rows]
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", '"', "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=8)) + data[cut:]
    return data


CSV_MAPPING = csv_import.ColumnMapping(
    date="date", value="value", measure_column="measure", unit_column="unit"
)

_apple_types = st.sampled_from(
    [
        "HKQuantityTypeIdentifierBodyMass",
        "HKQuantityTypeIdentifierHeartRate",
        "HKQuantityTypeIdentifierBloodPressureSystolic",
        "HKQuantityTypeIdentifierBloodPressureDiastolic",
        "HKQuantityTypeIdentifierOxygenSaturation",
        "HKQuantityTypeIdentifierBloodGlucose",
        "HKQuantityTypeIdentifierStepCount",
        "HKWorkout",
        "",
    ]
)
_apple_dates = (
    st.sampled_from(
        ["2026-11-20 08:00:00 -0500", "0001-01-01 00:00:00 +1400", "9999-12-31 23:59:59 -1200"]
    )
    | _weird_text
)


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace("\x00", "")
    )


@st.composite
def apple_exports(draw) -> tuple[bytes, str]:
    records = draw(
        st.lists(
            st.tuples(_apple_types, _weird_text | st.just("72"), _unit_text, _apple_dates),
            max_size=10,
        )
    )
    body = []
    for kind, value, unit, when in records:
        record = (
            f'<Record type="{_attr(kind)}" sourceName="W" unit="{_attr(unit)}" '
            f'startDate="{_attr(when)}" value="{_attr(value)}"/>'
        )
        if draw(st.booleans()):
            record = f'<Correlation type="BP">{record}</Correlation>'
        body.append(record)
    nest = draw(st.integers(0, 30))
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">'
        + "<x>" * nest
        + "".join(body)
        + "</x>" * nest
        + "</HealthData>"
    ).encode()
    tweak = draw(st.sampled_from(["none", "cut", "noise", "entity", "raw"]))
    if tweak == "cut":
        xml = xml[: draw(st.integers(0, len(xml)))]
    elif tweak == "noise":
        at = draw(st.integers(0, len(xml)))
        xml = xml[:at] + draw(st.binary(min_size=1, max_size=8)) + xml[at:]
    elif tweak == "entity":
        xml = (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;">'
            b'<!ENTITY e SYSTEM "file:///etc/passwd">]><HealthData>&c;&e;</HealthData>'
        )
    elif tweak == "raw":
        xml = draw(st.binary(max_size=200))
    if draw(st.booleans()):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(draw(st.sampled_from(["export.xml", "a/export.xml", "x.txt"])), xml)
        data = buffer.getvalue()
        if draw(st.booleans()):
            cut = draw(st.integers(0, len(data)))
            data = data[:cut] + draw(st.binary(max_size=4)) + data[cut + 4 :]
        return data, "export.zip"
    return xml, "export.xml"


_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | _weird_text
)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_weird_text, inner, max_size=4),
    max_leaves=20,
)


@st.composite
def fhir_files(draw) -> bytes:
    loinc = draw(st.sampled_from(["85354-9", "29463-7", "8867-4", "8480-6", "59408-5", "x"]))
    observation = {
        "resourceType": draw(st.sampled_from(["Observation", "Observation", "Patient", 7])),
        "status": draw(st.sampled_from(["final", "entered-in-error", "bogus"])),
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "effectiveDateTime": draw(
            st.sampled_from(["2026-11-20T08:00:00Z", "2026-11-20", "2026", "0001-01-01T00:00:00Z"])
            | _weird_text
        ),
        "valueQuantity": {"value": draw(_json_scalars), "unit": draw(_unit_text)},
        "component": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "code": st.just({"coding": [{"code": "8480-6"}]}),
                        "valueQuantity": st.fixed_dictionaries({"value": _json_scalars}),
                    }
                ),
                max_size=3,
            )
        ),
    }
    for key in draw(st.lists(st.sampled_from(list(observation)), max_size=3)):
        observation[key] = draw(_json)
    if draw(st.booleans()):
        observation["subject"] = draw(
            st.sampled_from([{"reference": "Patient/fuzz-1"}, {"reference": 5}, "x", None]) | _json
        )
    entries = draw(st.lists(st.just({"resource": observation}) | _json, max_size=5))
    document = draw(
        st.sampled_from(["bundle", "single", "junk"]).map(
            lambda kind: (
                {"resourceType": "Bundle", "entry": entries}
                if kind == "bundle"
                else observation
                if kind == "single"
                else None
            )
        )
    )
    if document is None:
        document = draw(_json)
    text = json.dumps(document)  # NaN and Infinity too: json.loads reads them
    if draw(st.booleans()):
        depth = draw(st.integers(0, 5000))
        text = '{"resourceType":"Bundle","entry":' + "[" * depth + "]" * depth + "}"
    data = text.encode()
    if draw(st.integers(0, 5)) == 0:
        data = draw(st.binary(max_size=100))
    return data


# --- the contract -----------------------------------------------------------------------------


class _Patient:
    """Just what the subject check reads."""

    fhir_id = "fuzz-1"
    mrn = "MRN-FUZZ"
    family_name = "Fuzz"
    birth_date = None
    display_name = "Fuzz Patient"


def _consume(items) -> int:
    """Drain a parser; each reading must normalise or be refused with InvalidInput."""
    count = 0
    try:
        for item in items:
            count += 1
            assert isinstance(item, ReadingInput | Refusal), type(item)
            if isinstance(item, ReadingInput):
                with contextlib.suppress(InvalidInput):
                    entry.normalise(1, item, source="fuzz", now=NOW, actor=None)
    except ImportRefused:
        pass
    return count


def _budget() -> ImportBudget:
    return ImportBudget(max_records=10_000, max_seconds=30)


def check_csv(data: bytes) -> None:
    with contextlib.suppress(InvalidInput):
        csv_import.preview(data)
    _consume(csv_import.parse_csv(data, CSV_MAPPING, tz=NY, budget=_budget()))


def check_apple(data: bytes, filename: str) -> None:
    try:
        with apple_health.export_stream(
            io.BytesIO(data), filename, max_xml_bytes=10 * 1024**2
        ) as stream:
            _consume(apple_health.AppleHealthFile(stream, budget=_budget()).readings())
    except ImportRefused:
        pass


def check_fhir(data: bytes) -> None:
    _consume(fhir_import.parse_fhir(data, patient=_Patient(), budget=_budget()))


TARGETS = {
    "csv": (csv_files(), lambda data: check_csv(data)),
    "apple": (apple_exports(), lambda pair: check_apple(*pair)),
    "fhir": (fhir_files(), lambda data: check_fhir(data)),
}


def run(target: str, seconds: float, batch: int = 500) -> tuple[int, list[str]]:
    """Run one target for about ``seconds``; returns (cases run, crash descriptions)."""
    strategy, check = TARGETS[target]
    cases = 0
    crashes: list[str] = []

    @settings(
        max_examples=batch,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def fuzz(value):
        nonlocal cases
        cases += 1
        check(value)

    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            fuzz()
        except Exception as error:  # noqa: BLE001 - a crash is what we are looking for
            CRASH_DIR.mkdir(parents=True, exist_ok=True)
            path = CRASH_DIR / f"{target}-{len(crashes) + 1}.txt"
            failures = error.exceptions if isinstance(error, ExceptionGroup) else [error]
            report = []
            for failure in failures:
                # The traceback, then hypothesis's notes: the shrunk input that fails.
                report.append("".join(traceback.format_exception(failure)))
            path.write_text("\n".join(report), encoding="utf-8")
            crashes.append(f"{target}: {type(error).__name__}: {str(error)[:200]} ({path})")
            if len(crashes) >= 5:
                break
    return cases, crashes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    args = parser.parse_args()
    targets = list(TARGETS) if args.target == "all" else [args.target]
    share = args.minutes * 60 / len(targets)
    total_crashes = []
    for target in targets:
        started = time.monotonic()
        cases, crashes = run(target, share)
        print(
            f"{target}: {cases} cases in {time.monotonic() - started:.0f} s, "
            f"{len(crashes)} crash(es)",
            flush=True,
        )
        for crash in crashes:
            print(f"  {crash}", flush=True)
        total_crashes += crashes
    raise SystemExit(1 if total_crashes else 0)


if __name__ == "__main__":
    main()
