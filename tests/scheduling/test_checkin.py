from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import CheckIn
from portal.errors import InvalidInput
from portal.services.scheduling import booking, checkin
from tests.scheduling.conftest import WED_9AM


def _annual(session, now, clinic):
    return booking.book(
        clinic.alice_user,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        practitioner_id=clinic.smith.id,
        start=WED_9AM + timedelta(days=1),
        visit_type="annual",
    )


def test_phq2_answers_stored_scored_and_visible_to_clinician(session, now, clinic):
    b = _annual(session, now, clinic)
    checkin.submit(
        clinic.alice_user,
        b.id,
        session=session,
        now=now,
        answers={
            "phq2_interest": "Several days",
            "phq2_mood": "Nearly every day",
            "concerns": "Sleep",
        },
        contact_confirmed=True,
        medications_confirmed=True,
        allergies_confirmed=False,
    )
    row, answers = checkin.answers_for(clinic.staff, b.id, session=session, now=now)
    assert row.score == 4 and row.questionnaire == "phq2"
    assert [(a.question_code, a.answer_value) for a in answers] == [
        ("phq2_interest", 1),
        ("phq2_mood", 3),
        ("concerns", None),
    ]


def test_unknown_choice_is_refused_and_nothing_stored(session, now, clinic):
    b = _annual(session, now, clinic)
    with pytest.raises(InvalidInput):
        checkin.submit(
            clinic.alice_user,
            b.id,
            session=session,
            now=now,
            answers={"phq2_interest": "Sometimes", "phq2_mood": "Not at all"},
            contact_confirmed=True,
            medications_confirmed=True,
            allergies_confirmed=True,
        )
    assert session.exec(select(CheckIn)).all() == []
