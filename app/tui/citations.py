"""Page citations in answers ([p. 3], [p. 3, 7], [pp. 3-4], [report.pdf, p. 3]) as links.

The answer is Markdown; a markdown-it inline rule turns each citation into a link to
"cite:PAGE" (its first page) before Textual renders it, so a citation is drawn and clicked
like any link. The rule runs on every re-parse of a streamed answer, so a citation split
across two chunks becomes a link as soon as its closing bracket arrives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

if TYPE_CHECKING:  # the app starts without the selector's imports
    from ctxchat.engines.answer.evidence import Evidence

# The forms the answer prompt asks for and small models write (see engines.answer).
CITATION = re.compile(
    r"\[(?:[^\[\]\n]*?,\s*)?pp?\.\s*(\d+(?:\s*(?:[-\u2013,;]|and)\s*\d+)*)\s*\]", re.IGNORECASE
)
_PAGE_NUMBER = re.compile(r"\d+")
HREF_PREFIX = "cite:"


def cited_pages(text: str) -> list[int]:
    """Every page the text cites, in order of first citation."""
    pages: list[int] = []
    for match in CITATION.finditer(text):
        for number in _PAGE_NUMBER.findall(match.group(1)):
            if int(number) not in pages:
                pages.append(int(number))
    return pages


def page_of_href(href: str) -> int | None:
    """The page a citation link points to; None for any other link."""
    if href.startswith(HREF_PREFIX) and href[len(HREF_PREFIX) :].isdigit():
        return int(href[len(HREF_PREFIX) :])
    return None


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[":
        return False
    match = CITATION.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        first_page = _PAGE_NUMBER.search(match.group(1))
        link = state.push("link_open", "a", 1)
        link.attrs = {"href": f"{HREF_PREFIX}{first_page.group() if first_page else ''}"}
        text = state.push("text", "", 0)
        text.content = match.group(0)
        state.push("link_close", "a", -1)
    state.pos = match.end()
    return True


def citation_parser() -> MarkdownIt:
    """Textual's Markdown parser ("gfm-like") plus the citation rule."""
    parser = MarkdownIt("gfm-like")
    parser.inline.ruler.before("link", "page_citation", _citation_rule)
    return parser


def matched_pages_note(
    pages: list[int], pages_from: str | None, evidence: Sequence[Evidence]
) -> str | None:
    """Where an answer that cites no page was found: 'The answer matches p. 13 · 2.19 Daimler
    AG.' Small models often leave out [p. N]; the page their words match is still worth
    showing. None when the answer cites its pages or matches none."""
    if pages_from != "matched" or not pages:
        return None
    listed = ", ".join(str(page) for page in pages)
    sections = [e.section for e in evidence if e.page == pages[0] and e.section]
    where = f"p. {listed} · {sections[0]}" if sections and len(pages) == 1 else f"p. {listed}"
    return f"The answer matches {where}."
