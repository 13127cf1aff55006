"""Text from the EHR or from people, made safe to place inside Streamlit markdown.

st.markdown would otherwise act on *, _, [links](...), :colour[...] directives and $maths$ in a
medication name or a patient's note. Escaping every ASCII punctuation mark keeps the text literal.
"""

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&=\"'])")


def md_literal(text: str | None) -> str:
    """The text, escaped so that markdown shows it exactly as written."""
    if not text:
        return ""
    # Newlines would start new markdown blocks (headings, lists); keep the text on one line.
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
