"""The password rules, with messages a patient can act on."""

from portal.config import get_settings
from portal.passwords import MAX_PASSWORD_BYTES

# The most guessed passwords; the length rule already rules out most of the rest.
_COMMON = {
    "password1234",
    "passwordpassword",
    "123456789012",
    "qwertyuiopas",
    "iloveyou1234",
    "letmein12345",
    "welcome12345",
}


def password_problems(
    password: str, *, username: str = "", confirm: str | None = None
) -> list[str]:
    """Everything wrong with a new password, in plain words (empty list: acceptable)."""
    min_length = get_settings().password_min_length
    problems = []
    if len(password) < min_length:
        problems.append(f"Use at least {min_length} characters (a short sentence works well).")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        problems.append(f"Use at most {MAX_PASSWORD_BYTES} bytes.")
    if password != password.strip():
        # streamlit-authenticator strips what is typed at sign-in, so such a password could not
        # be used to sign in.
        problems.append("Do not start or end the password with a space.")
    if password and len(set(password)) < 4:
        problems.append("Use more different characters.")
    if password.lower() in _COMMON:
        problems.append("That password is too common; choose another.")
    if username and username.lower() in password.lower():
        problems.append("Do not put your username in your password.")
    if confirm is not None and confirm != password:
        problems.append("The two passwords are not the same.")
    return problems
