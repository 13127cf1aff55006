"""Scheduling's domain errors; each carries the sentence the page shows."""

from portal.errors import InvalidInput, PortalError


class SlotTaken(PortalError):
    user_message = "Sorry, someone else just booked that time. Please pick another."


class SlotInPast(InvalidInput):
    user_message = "That time has already passed. Please pick a time in the future."


class SlotNotOffered(InvalidInput):
    user_message = "That provider does not offer this kind of visit at that time."


class AlreadyCancelled(InvalidInput):
    user_message = "This visit was already cancelled."


class DuplicateVisit(InvalidInput):
    """The patient already has a visit that overlaps, or the same kind the same day."""


class TooLateToChange(PortalError):
    def __init__(self, hours: int):
        super().__init__(
            f"Visits within {hours} hours cannot be changed online. "
            "Please call the clinic to cancel or reschedule."
        )


class OfferExpired(PortalError):
    user_message = "That offer has expired or was already used."
