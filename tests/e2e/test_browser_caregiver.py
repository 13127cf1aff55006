"""End-to-end: a caregiver with two children (the demo siblings) sees, at the top of each
patient page, whose record it is; switching changes it on every page, and the buttons that act
name the child."""

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from db.models import Patient, ProxyGrant
from tests.e2e.helpers import (
    PATIENT_HOME,
    choose,
    open_page,
    settled,
    sign_in,
    signed_in,
    user_named,
)

pytestmark = pytest.mark.browser


def _children(engine) -> list[Patient]:
    with Session(engine) as session:
        carer = user_named(session, "caregiver")
        return list(
            session.exec(
                select(Patient)
                .join(ProxyGrant, col(ProxyGrant.patient_id) == Patient.id)
                .where(ProxyGrant.user_id == carer.id)
                .order_by(Patient.id)
            ).all()
        )


def test_caregiver_switches_records_and_buttons_name_the_child(
    portal_url, portal_db, browser_page, shot
):
    page = browser_page
    first, second = _children(portal_db)[:2]
    sign_in(page, portal_url, "caregiver")
    expect(page.get_by_text(PATIENT_HOME)).to_be_visible()
    signed_in(page)

    def heading(patient: Patient):
        return page.get_by_role("heading", name=re.compile(f"Record of {patient.display_name}"))

    expect(heading(first)).to_be_visible()
    shot(page, "home-names-the-first-child")

    open_page(page, "Messages")
    expect(heading(first)).to_be_visible()
    page.get_by_text("Write a new message").click()
    send_first = f"Send message about {first.given_name}"
    expect(page.get_by_role("button", name=send_first)).to_be_visible()

    choose(page, "Switch to the record of", second.display_name)
    expect(heading(second)).to_be_visible()
    expect(
        page.get_by_role("button", name=f"Send message about {second.given_name}")
    ).to_be_visible()
    expect(page.get_by_role("button", name=send_first)).to_have_count(0)
    settled(page)
    shot(page, "messages-switched-to-the-second-child")

    # The choice follows the caregiver to another page.
    open_page(page, "Medications and refills")
    expect(heading(second)).to_be_visible()
    expect(heading(first)).to_have_count(0)
