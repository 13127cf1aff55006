"""triage.item_of_kind: the one lookup of "the inbox item behind this request panel"."""

import pytest

from portal.errors import NotFound
from portal.services import triage
from tests.factories import create_patient


def test_an_item_of_the_kind_is_found_and_another_kind_or_none_is_refused(session, now):
    patient = create_patient(session)
    item = triage.open_item(
        session=session,
        kind="refill",
        ref_id=41,
        patient_id=patient.id,
        summary="Metformin",
        actor=None,
        now=now,
    )
    session.commit()
    assert triage.item_of_kind(session, item.id, "refill", "a refill request").ref_id == 41
    with pytest.raises(NotFound, match="^That inbox item is not a message.$"):
        triage.item_of_kind(session, item.id, "message", "a message")
    with pytest.raises(NotFound, match="not a refill request"):
        triage.item_of_kind(session, item.id + 1, "refill", "a refill request")
