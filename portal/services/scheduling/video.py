"""Video visit links: a configurable server plus a room name nobody can guess or enumerate."""

import secrets

from portal.config import get_settings


def new_room_name() -> str:
    # 128 bits from the OS CSPRNG: a room is only as private as its name is unguessable.
    return f"clinic-{secrets.token_urlsafe(16)}"


def meeting_url(room: str) -> str:
    return f"{get_settings().video_base_url.rstrip('/')}/{room}"
