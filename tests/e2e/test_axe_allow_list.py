"""The allow-list of Streamlit-caused axe violations matches only Streamlit's own markup: the
same rule on our content stays ours (no browser needed)."""

from tests.e2e.axe_scan import Finding, ours, streamlit_reason


def _finding(rule: str, within: str, html: str = "<li>") -> Finding:
    return Finding(rule=rule, impact="serious", target="li", html=html, help="", within=within)


SIDEBAR = "stSidebarNavItems < stSidebarNav < stSidebarContent < stSidebar < stApp"


def test_the_sidebar_menu_markup_is_streamlits():
    assert streamlit_reason(_finding("listitem", SIDEBAR)) is not None
    assert streamlit_reason(_finding("list", SIDEBAR, "<ul>")) is not None


def test_the_same_rules_on_our_content_are_ours():
    ours_list = _finding("list", "stMarkdownContainer < stMarkdown < stVerticalBlock", "<ul>")
    assert streamlit_reason(ours_list) is None
    # The list rule is about the menu's <ul> itself, not anything inside the sidebar.
    assert streamlit_reason(_finding("list", "stSidebarUserContent < stSidebar", "<ul>")) is None


def test_other_rules_in_the_sidebar_are_ours():
    contrast = _finding("color-contrast", "stCaptionContainer < stSidebarUserContent < stSidebar")
    assert ours([contrast]) == [contrast]
    assert ours([_finding("listitem", SIDEBAR)]) == []
