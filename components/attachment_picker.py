"""The file picker of a message form: its files go with the one message they were chosen for.

Streamlit cannot empty a file uploader from code, so each picker's key carries a send counter:
after a send the counter moves on and the next run draws a fresh, empty uploader.
"""

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from components import session_keys as keys
from portal.config import get_settings
from portal.services.attachments import clean_filename, size_text, upload_limit_mb


def _key(name: str) -> str:
    rounds = st.session_state.get(keys.ATTACHMENT_ROUNDS, {})
    return f"{name}_{rounds.get(name, 0)}"


def attachment_picker(name: str) -> list[UploadedFile]:
    """The uploader for ``name`` and, under it, the files the patient will send with it."""
    files = (
        st.file_uploader(
            "Attachments",
            accept_multiple_files=True,
            key=_key(name),
            # The picker states and enforces the portal's own limit, not the server's 100 MB.
            max_upload_size=upload_limit_mb(get_settings().attachment_max_bytes),
        )
        or []
    )
    if files:
        # File names are the patient's text: st.text shows them literally.
        st.text(
            "Will be attached: "
            + ", ".join(f"{clean_filename(f.name)} ({size_text(f.size)})" for f in files)
        )
    else:
        st.caption("No files attached.")
    return files


def clear_attachments(name: str) -> None:
    """After a send: the next run shows an empty picker for ``name``."""
    rounds = dict(st.session_state.get(keys.ATTACHMENT_ROUNDS, {}))
    rounds[name] = rounds.get(name, 0) + 1
    st.session_state[keys.ATTACHMENT_ROUNDS] = rounds
