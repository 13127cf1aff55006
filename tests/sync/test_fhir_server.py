"""The test server itself: what the sync relies on (paging links, _lastUpdated, deletes)."""

from tests.sync import fhir_data


def test_search_pages_follow_offset_next_links(fhir_server):
    fhir_server.load([fhir_data.patient(n) for n in range(45)])
    first = fhir_server.search("Patient", _count=20)
    assert first["total"] == 45
    assert len(first["entry"]) == 20
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_offset=20" in next_url


def test_default_count_applies_when_client_sends_none(fhir_server):
    fhir_server.load([fhir_data.patient(n) for n in range(25)])
    bundle = fhir_server.search("Patient")
    assert len(bundle["entry"]) == 20


def test_last_updated_filter_and_delete(fhir_server):
    for n in range(3):  # one at a time: a batch may give them all the same millisecond
        fhir_server.put(fhir_data.patient(n))
    stamp = fhir_server.read("Patient", "pat-1")["meta"]["lastUpdated"]
    newer = fhir_server.search("Patient", _lastUpdated=f"gt{stamp}")
    assert [e["resource"]["id"] for e in newer["entry"]] == ["pat-2"]
    fhir_server.delete("Patient", "pat-2")
    assert fhir_server.search("Patient", _count=0)["total"] == 2
