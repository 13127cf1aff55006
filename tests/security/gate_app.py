"""A minimal app behind the real login gate, so gate tests do not depend on other pages."""

import streamlit as st

from components.login import logout_button, require_login

user = require_login()
st.markdown(f"Signed in as {user.username}")
logout_button(user)
