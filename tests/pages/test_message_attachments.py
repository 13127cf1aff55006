"""Issue 12 item 1: an attachment goes with the one message it was chosen for."""

from sqlmodel import select

from db.models import Attachment, Message, MessageThread
from tests.harness import click, open_app, run_ok, texts
from tests.requests.helpers import PDF, make_clinic


def _write(at, *, to: str, subject: str, body: str) -> None:
    at.selectbox(key="new_message_to").set_value(to)
    at.text_input(key="new_message_subject").set_value(subject)
    at.text_area(key="new_message_body").set_value(body)


def test_a_file_goes_with_one_message_and_is_listed_before_sending(app_env, session):
    clinic = make_clinic(session)
    at = open_app(clinic.alice_user.username, "pages/messages.py")

    _write(at, to="care_team", subject="Rash", body="Photo of the rash")
    # The new-message picker is the first one on the page (the reply box comes after threads).
    at.file_uploader[0].set_value(("rash.pdf", PDF * 40, "application/pdf"))
    run_ok(at)
    assert "Will be attached: rash.pdf (1 KB)" in texts(at)
    click(at, "Send message")
    assert [s.value for s in at.success] == [
        "Sent. The clinic will reply here; we will notify you."
    ]
    # The picker is empty again and says so.
    assert not at.file_uploader[0].value
    assert not any(t.startswith("Will be attached") for t in texts(at))

    _write(at, to="billing", subject="Invoice", body="A question about my bill")
    click(at, "Send message")

    threads = {t.recipient: t for t in session.exec(select(MessageThread)).all()}
    assert set(threads) == {"care_team", "billing"}
    attached = {
        m.thread_id: [
            a.filename for a in session.exec(select(Attachment)).all() if a.message_id == m.id
        ]
        for m in session.exec(select(Message)).all()
    }
    assert attached[threads["care_team"].id] == ["rash.pdf"]
    assert attached[threads["billing"].id] == []
