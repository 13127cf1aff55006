"""Health summary > Documents: a listed document can be read on the page (and downloaded)."""

from db.models import Role
from tests.factories import create_patient, create_user
from tests.factories_records import create_document
from tests.harness import click, open_app, run_ok


def test_patient_reads_a_listed_document(app_env, session):
    alice = create_patient(session, given_name="Alice", family_name="Archer")
    create_user(session, Role.PATIENT, alice, username="alice")
    doc = create_document(session, alice, title="Knee visit summary", text="Ice the **knee**.")
    create_document(session, alice, title="Older note", text="Something else")

    at = open_app("alice", "health_summary")
    picker = at.selectbox(key="summary_document_choice")
    assert picker.value is None  # nothing opens until the patient picks one
    picker.set_value(doc.id)
    run_ok(at)
    assert [d.label for d in at.get("download_button")] == ["Download (.txt)"]
    click(at, "Read it here")
    # The EHR's text, shown exactly as written (not as Markdown).
    assert "Ice the **knee**." in [t.value for t in at.text]
    assert "Something else" not in [t.value for t in at.text]
