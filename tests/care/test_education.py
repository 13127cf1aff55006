"""Education links: MedlinePlus Connect URLs from codes, lab descriptions, and where they show."""

from urllib.parse import parse_qs, urlsplit

import pytest

from portal.services import education
from portal.services.records import health_summary
from tests.factories import create_observation
from tests.factories_records import create_condition, create_medication
from tests.harness import goto
from tests.requests.helpers import make_clinic


def frame_with(at, column: str):
    """The first table on the page with this column."""
    return next(f.value for f in at.dataframe if column in f.value.columns)


def query(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == education.MEDLINEPLUS_CONNECT
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


@pytest.mark.parametrize(
    ("system", "code", "oid"),
    [
        ("http://hl7.org/fhir/sid/icd-10-cm", "E11.9", "2.16.840.1.113883.6.90"),
        ("http://snomed.info/sct", "44054006", "2.16.840.1.113883.6.96"),
        ("http://www.nlm.nih.gov/research/umls/rxnorm", "860975", "2.16.840.1.113883.6.88"),
        ("http://loinc.org", "4548-4", "2.16.840.1.113883.6.1"),
    ],
)
def test_link_carries_the_code_system_oid_and_code(system, code, oid):
    params = query(education.medlineplus_url(system, code, "Some name"))
    assert params["mainSearchCriteria.v.cs"] == oid
    assert params["mainSearchCriteria.v.c"] == code
    assert params["mainSearchCriteria.v.dn"] == "Some name"
    assert params["informationRecipient.languageCode.c"] == "en"


def test_no_link_without_a_code_or_for_an_unknown_system():
    assert education.medlineplus_url("http://snomed.info/sct", None) is None
    assert education.medlineplus_url("http://snomed.info/sct", "  ") is None
    assert education.medlineplus_url("urn:local:problems", "123") is None
    assert education.medlineplus_url(None, "123") is None


def test_names_with_reserved_characters_are_encoded():
    url = education.lab_test_url("2093-3", "Cholesterol & friends #1")
    assert "&" not in query(url)["mainSearchCriteria.v.c"]
    assert query(url)["mainSearchCriteria.v.dn"] == "Cholesterol & friends #1"


def test_common_lab_tests_have_a_plain_description():
    assert "blood sugar" in education.lab_description("4548-4")
    assert "kidneys" in education.lab_description("62238-1")
    assert education.lab_description("0000-0") == ""
    assert education.lab_description(None) == ""


def test_health_summary_rows_carry_codes_for_links(session, now):
    clinic = make_clinic(session)
    create_condition(session, clinic.alice)
    create_medication(session, clinic.alice)
    summary = health_summary(clinic.alice_user, clinic.alice.id, session=session, now=now)
    [problem] = summary.problems
    [medication] = summary.active_medications
    assert (
        query(education.medlineplus_url(problem.code_system, problem.code))[
            "mainSearchCriteria.v.cs"
        ]
        == education.SNOMED_OID
    )
    assert (
        query(education.medlineplus_url(medication.code_system, medication.code))[
            "mainSearchCriteria.v.c"
        ]
        == "860975"
    )


def test_summary_and_results_pages_show_medlineplus_links(open_page, session):
    clinic = make_clinic(session)
    create_condition(session, clinic.alice)
    create_observation(session, clinic.alice)
    at = open_page(clinic.alice_user.username, "pages/health_summary.py")
    problems = frame_with(at, "Problem")
    assert "Learn more" in problems.columns
    assert problems["Learn more"][0].startswith(education.MEDLINEPLUS_CONNECT)

    goto(at, "pages/results.py")
    assert not at.exception
    latest = frame_with(at, "Test")
    assert "mainSearchCriteria.v.c=4548-4" in latest["Learn more"][0]
    assert any("average blood sugar" in c.value for c in at.caption)
