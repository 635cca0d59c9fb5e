"""The query-aware selector on real stores, real MiniLM weights and real tokenizers."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.pipeline import add_text
from ctxchat.engines.select import fusion
from ctxchat.engines.select.selector import GAP, SelectorOptions, render, select
from ctxchat.engines.store.db import NewSegment, SegmentRow, Store
from ctxchat.engines.tokens import count_tokens

FILLER = [
    "The harbour was busy with boats carrying timber and salted fish.",
    "Farmers in the valley grew barley, cabbages and a few apples.",
    "Winters in the uplands are long and the passes close for weeks.",
    "The town council met in a modest building near the square.",
    "Travellers described the inns as clean but rather expensive.",
    "Records from this period are incomplete because archives burned.",
    "The museum displays tools, costumes and old photographs.",
    "Summer markets drew farmers from all the surrounding parishes.",
]
FACTS = {
    "Who founded the Velmora Glassworks?": (
        "The Velmora Glassworks was established by Ottilie Brunström.",
        "Ottilie Brunström",
    ),
    "How high is the peak of Galford?": (
        "The summit of Mount Galford rises 3,412 metres above sea level.",
        "3,412",
    ),
    "When did the Ostmere beacon begin shining?": (
        "The lighthouse at Ostmere was first lit on 9 May 1862.",
        "9 May 1862",
    ),
}


def _document(seed: int = 3, paragraphs: int = 60) -> str:
    rng = random.Random(seed)
    paras = [" ".join(rng.sample(FILLER, 4)) for _ in range(paragraphs)]
    for i, (sentence, _) in enumerate(FACTS.values()):
        at = (i + 1) * paragraphs // (len(FACTS) + 1)
        paras[at] = f"{paras[at]} {sentence}"
    return "\n\n".join(paras)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, int]:
    store = Store(tmp_path_factory.mktemp("lib") / "library.db")
    doc = add_text(store, _document())
    return store, doc.id


@pytest.mark.parametrize("question", list(FACTS))
def test_finds_paraphrased_answer_within_a_small_budget(library, question: str) -> None:
    store, doc_id = library
    sel = select(store, [doc_id], question, 40)
    assert FACTS[question][1] in sel.text
    assert count_tokens(sel.text) == sel.tokens <= 40


@pytest.mark.parametrize("budget", [1, 5, 17, 64, 150, 333, 800])
def test_never_exceeds_the_budget_and_keeps_document_order(library, budget: int) -> None:
    store, doc_id = library
    sel = select(store, [doc_id], "farmers and their harvests in winter", budget)
    assert sel.tokens == count_tokens(sel.text) <= budget
    ords = [s.ord for s in sel.segments]
    assert ords == sorted(ords)
    if len(ords) > 1 and any(b - a > 1 for a, b in zip(ords, ords[1:], strict=False)):
        assert GAP in sel.text
    for span in sel.spans:
        assert span.text in sel.text and span.doc_id == doc_id


def test_budget_is_counted_in_the_callers_tokenizer(library) -> None:
    store, doc_id = library

    def words(text: str) -> int:  # a tokenizer far from cl100k: whitespace words
        return len(text.split())

    sel = select(store, [doc_id], "Who founded the Velmora Glassworks?", 30, count_tokens=words)
    assert words(sel.text) <= 30 and sel.tokens == words(sel.text)
    assert "Ottilie Brunström" in sel.text


def test_duplicates_are_skipped(library) -> None:
    store, doc_id = library
    sel = select(store, [doc_id], "farmers barley cabbages apples valley", 200)
    texts = [s.text for s in sel.segments]
    assert len(texts) == len(set(texts))
    hybrid = select(
        store,
        [doc_id],
        "farmers barley cabbages apples valley",
        200,
        options=SelectorOptions(method="hybrid"),
    )
    assert len(hybrid.segments) > len(set(s.text for s in hybrid.segments))


def test_pronoun_sentence_brings_its_predecessor() -> None:
    store = Store()
    text = "\n\n".join(
        [
            " ".join(FILLER[:4]),
            " ".join(FILLER[4:]),
            "Marit Kostova grew up in the fishing town of Galgrad. She later wrote the novel "
            "The Copper Lantern.",
            " ".join(FILLER[2:6]),
        ]
    )
    doc = add_text(store, text)
    sel = select(store, [doc.id], "Which book did she write, the novel?", 60)
    assert "The Copper Lantern" in sel.text
    assert "Marit Kostova grew up" in sel.text
    plain = select(
        store,
        [doc.id],
        "Which book did she write, the novel?",
        60,
        # (the passage-level lift would also bring the paragraph's other sentence)
        options=SelectorOptions(
            leaning_predecessor=False, neighbour_weight=0, passage_coverage_weight=0
        ),
    )
    assert "Marit Kostova grew up" not in plain.text


def test_adaptive_stop_returns_less_than_a_large_budget(library) -> None:
    store, doc_id = library
    doc_tokens = store.document(doc_id).tokens
    budget = doc_tokens - 10
    adaptive = select(
        store,
        [doc_id],
        "Who founded the Velmora Glassworks?",
        budget,
        options=SelectorOptions(adaptive_floor=64, relative_cutoff=0.6),
    )
    assert "Ottilie Brunström" in adaptive.text
    assert adaptive.tokens < budget // 2
    filled = select(
        store,
        [doc_id],
        "Who founded the Velmora Glassworks?",
        budget,
        options=SelectorOptions(relative_cutoff=0),
    )
    assert filled.tokens > adaptive.tokens


def test_pages_and_documents_are_marked_for_citations() -> None:
    store = Store()
    ids = []
    for name, fact in (("alpha.pdf", 0), ("beta.pdf", 1)):
        sentence, _ = list(FACTS.values())[fact]
        segs = []
        for page in (1, 2, 3):
            for _j, filler in enumerate(FILLER):
                segs.append((page, filler))
            if page == 2:
                segs.append((page, sentence))
        rows = [
            NewSegment(page=p, paragraph=i // 3, text=t, tokens=count_tokens(t), hash=f"{name}-{i}")
            for i, (p, t) in enumerate(segs)
        ]
        doc, _ = store.add_document(
            sha256=name * 4, name=name, path=name, kind="pdf", size=1, segments=rows
        )
        ids.append(doc.id)
    sel = select(store, ids, "Who founded the Velmora Glassworks and how high is Galford?", 80)
    assert "[alpha.pdf, p. 2]" in sel.text and "[beta.pdf, p. 2]" in sel.text
    cited = {(s.doc_name, s.page) for s in sel.spans if "Brunström" in s.text or "3,412" in s.text}
    assert cited == {("alpha.pdf", 2), ("beta.pdf", 2)}
    assert sel.tokens <= 80


def test_render_markers() -> None:
    store = Store()
    doc = add_text(store, "One. Two.\n\nThree. Four. Five.")
    segs = store.segments(doc.id)
    from ctxchat.engines.select.selector import Piece

    text, spans = render(
        [
            Piece(segs[0], segs[0].text, "t"),
            Piece(segs[1], segs[1].text, "t"),
            Piece(segs[4], segs[4].text, "t"),
        ]
    )
    assert text == f"One. Two.\n{GAP}\nFive."
    assert [s.text for s in spans] == ["One. Two.", "Five."]
    assert spans[0].page is None


def test_a_new_page_of_the_same_section_is_marked_by_its_page_only() -> None:
    """A paragraph that goes on over a page break: the second page's sentences are cited
    by their page, and the marker spends no tokens naming the section again."""
    from ctxchat.engines.select.selector import Piece

    rows = [
        SegmentRow(1, 1, 0, 12, 0, "The pump was rebuilt in the spring.", 8, "a", "3.2 Repairs"),
        SegmentRow(2, 1, 1, 13, 0, "It ran for ten years.", 6, "b", "3.2 Repairs"),
        SegmentRow(3, 1, 2, 13, 1, "A new pump came later.", 6, "c", "3.3 Costs"),
    ]
    text, _ = render([Piece(r, r.text, "m.pdf") for r in rows])
    assert text == (
        "[p. 12, 3.2 Repairs] The pump was rebuilt in the spring.\n"
        "[p. 13] It ran for ten years.\n"
        "[p. 13, 3.3 Costs] A new pump came later."
    )


def test_bad_input_is_a_clear_error(library) -> None:
    store, doc_id = library
    with pytest.raises(CtxchatError, match="budget"):
        select(store, [doc_id], "question", 0)
    with pytest.raises(CtxchatError, match="empty"):
        select(store, [doc_id], "  ", 10)
    with pytest.raises(CtxchatError, match="no document"):
        select(store, [doc_id + 99], "question", 10)


def test_fusion_helpers() -> None:
    import numpy as np

    assert fusion.minmax(np.array([2.0, 2.0])).tolist() == [0.0, 0.0]
    assert fusion.minmax(np.array([1.0, 3.0, 2.0])).tolist() == [0.0, 1.0, 0.5]
    fused = fusion.rrf(
        [
            (np.array([3.0, 1.0, 2.0]), np.array([True, False, True])),
            (np.array([0.1, 0.9, 0.5]), None),
        ]
    )
    # Absent from the lexical list, sentence 1 gets only its dense term.
    assert fused.tolist() == pytest.approx([1 / 61 + 1 / 63, 1 / 61, 2 / 62])
    boosted = fusion.neighbour_boost(
        np.array([0.0, 1.0, 0.0, 0.0]), np.array([False, True, False, True]), 0.5
    )
    assert boosted.tolist() == [0.5, 1.0, 0.0, 0.0]


def test_a_continuation_inherits_its_antecedents_score() -> None:
    store = Store()
    text = "\n\n".join(
        [
            " ".join(FILLER[:4]),
            "Gustav Gredane joined the Marton Map Office as a junior clerk. He became its "
            "chairman in 1838. " + FILLER[5],
            " ".join(FILLER[4:]),
            "Gustav Gredane is remembered in Lorford mainly for a series of public lectures. "
            "The Marton Map Office published a yearly bulletin read well beyond the board. "
            "Several smaller societies merged with the Marton Map Office over the decades.",
        ]
    )
    doc = add_text(store, text)
    segs = store.segments(doc.id)
    from ctxchat.engines.select.selector import leans_back

    flags = leans_back(segs)
    assert [s.text for s, f in zip(segs, flags, strict=True) if f] == [
        "He became its chairman in 1838."
    ]
    question = "When did Gustav Gredane rise to lead the board of the Marton Map Office?"
    sel = select(store, [doc.id], question, 30)
    assert "1838" in sel.text and sel.tokens <= 30
    import numpy as np

    from ctxchat.engines.select.selector import carry_to_continuations

    scores = np.linspace(0.0, 0.1, len(segs))
    scores[segs.index(next(s for s in segs if s.text.startswith("Gustav Gredane joined")))] = 1.0
    carried = carry_to_continuations(scores, segs, 0.9)
    lean = int(np.flatnonzero(flags)[0])
    assert carried[lean] == pytest.approx(0.9) and carried[lean - 1] == 1.0
    assert np.array_equal(np.delete(carried, lean), np.delete(scores, lean))


def test_compact_markers_let_a_page_marker_stand_for_the_skip() -> None:
    from ctxchat.engines.select.selector import Piece

    store = Store()
    rows = [
        NewSegment(page=p, paragraph=i, text=t, tokens=count_tokens(t), hash=f"c{i}")
        for i, (p, t) in enumerate([(1, "One."), (1, "Two."), (1, "Three."), (2, "Four.")])
    ]
    doc, _ = store.add_document(
        sha256="c" * 64, name="c.pdf", path="c.pdf", kind="pdf", size=1, segments=rows
    )
    segs = store.segments(doc.id)
    pieces = [Piece(segs[i], segs[i].text, "c.pdf") for i in (0, 2, 3)]
    full, _ = render(pieces)
    compact, _ = render(pieces, compact=True)
    assert full == f"[p. 1] One.\n{GAP}\nThree.\n[p. 2] Four."
    assert render([pieces[0], pieces[2]], compact=True)[0] == "[p. 1] One.\n[p. 2] Four."
    assert compact == full  # a skip on the same page keeps its "[...]" line
    assert count_tokens(render([pieces[0], pieces[2]], compact=True)[0]) < count_tokens(
        render([pieces[0], pieces[2]])[0]
    )


def test_headings_named_by_the_question_or_the_best_sentences() -> None:
    from ctxchat.engines.select.selector import _all_sections, load_documents, named_sections

    store = Store()
    text = (
        "## Harbour Office\n\nThe harbour office keeps the tide tables. It opened late.\n\n"
        "## Ada Brune\n\nShe kept the lighthouse for forty years.\n\n"
        "## Weather\n\nWinters are long here."
    )
    doc = add_text(store, text)
    (index,) = load_documents(store, [doc.id])
    sections, titles = _all_sections([index])
    segs = index.segments
    assert "ada brune" in titles and "harbour office" in titles
    scores = np.array([1.0 if "tide tables" in s.text else 0.0 for s in segs])
    named = named_sections(segs, sections, titles, "who wrote about the weather?", scores, 1)
    flagged = {s.text for s, v in zip(segs, named, strict=True) if v}
    assert "Winters are long here." in flagged
    assert "She kept the lighthouse for forty years." not in flagged
    # The best sentence names a heading: that section (the second hop) is flagged too.
    segs_text = [s.text for s in segs]
    scores = np.array([1.0 if t.startswith("It opened") else 0.0 for t in segs_text])
    named = named_sections(segs, sections, titles, "when did it open?", scores, 1)
    assert not any(named)
    store2 = Store()
    doc2 = add_text(store2, text.replace("It opened late.", "Its clerk was Ada Brune."))
    (index2,) = load_documents(store2, [doc2.id])
    sections2, titles2 = _all_sections([index2])
    segs2 = index2.segments
    scores2 = np.array([1.0 if "clerk" in s.text else 0.0 for s in segs2])
    named2 = named_sections(segs2, sections2, titles2, "what did the clerk do?", scores2, 1)
    flagged2 = {s.text for s, v in zip(segs2, named2, strict=True) if v}
    assert "She kept the lighthouse for forty years." in flagged2
    # question_named_weight: a heading the question names counts more than a bridge.
    both = named_sections(
        segs2, sections2, titles2, "what did the clerk do about the weather?", scores2, 1, None, 0.5
    )
    weights = {s.text: v for s, v in zip(segs2, both, strict=True)}
    assert weights["Winters are long here."] == 1.5
    assert weights["She kept the lighthouse for forty years."] == 1.0


def test_a_function_name_in_the_question_names_its_section() -> None:
    """A manual's PDF titles asn1_der_coding's section "asn1 der coding"."""
    from ctxchat.engines.select.selector import _all_sections, load_documents, named_sections

    store = Store()
    text = (
        "## asn1 der coding\n\nCreates the DER encoding. Returns: ASN1_VALUE_NOT_FOUND if "
        "there is an element without a value.\n\n"
        "## asn1 der decoding\n\nFills the structure. Returns: ASN1_TAG_ERROR if the der "
        "encoding does not match the structure."
    )
    (index,) = load_documents(store, [add_text(store, text).id])
    sections, titles = _all_sections([index])
    question = "what does asn1_der_coding return when the structure is incomplete?"
    scores = np.zeros(len(index.segments))
    named = named_sections(index.segments, sections, titles, question, scores, 0)
    flagged = {s.text for s, v in zip(index.segments, named, strict=True) if v}
    assert any("ASN1_VALUE_NOT_FOUND" in t for t in flagged)
    assert not any("ASN1_TAG_ERROR" in t for t in flagged)


def test_top_up_spends_what_the_estimates_left(library) -> None:
    store, doc_id = library
    question = "farmers and their harvests in winter"
    for budget in (40, 90, 150):
        plain = select(store, [doc_id], question, budget, options=SelectorOptions(top_up_tries=0))
        topped = select(store, [doc_id], question, budget)
        assert plain.tokens <= topped.tokens <= budget
        assert set(s.id for s in plain.segments) <= set(s.id for s in topped.segments)


def _pdf_like(store: Store, rows: list[tuple[int, int, str, str | None]]) -> list:
    """A stored document of (page, paragraph, text, heading) rows, as a PDF gives them."""
    new = [
        NewSegment(
            page=page, paragraph=para, text=t, tokens=count_tokens(t), hash=f"h{i}", heading=head
        )
        for i, (page, para, t, head) in enumerate(rows)
    ]
    doc, _ = store.add_document(
        sha256="h" * 64, name="h.pdf", path="h.pdf", kind="pdf", size=1, segments=new
    )
    return [doc, store.segments(doc.id)]


def test_a_heading_is_not_spent_twice_and_small_budgets_drop_its_numbering() -> None:
    from ctxchat.engines.select.selector import Piece, heading_only, section_leads

    store = Store()
    doc, segs = _pdf_like(
        store,
        [
            (1, 0, "### 3.2 Ada Brune", "3.2 Ada Brune"),
            (1, 1, "Ada Brune kept the Ostmere lighthouse for forty years.", "3.2 Ada Brune"),
            (1, 1, "She was born in Velmora in 1840.", "3.2 Ada Brune"),
            (2, 2, "### 3.3 Weather", "3.3 Weather"),
            (2, 3, "Winters in the uplands are long.", "3.3 Weather"),
        ],
    )
    assert heading_only(segs).tolist() == [True, False, False, True, False]
    assert section_leads(np.array([0, 0, 0, 1, 1]), heading_only(segs)).tolist() == [
        0,
        1,
        0,
        0,
        1,
    ]
    sel = select(store, [doc.id], "Who kept the lighthouse, Ada Brune?", 60)
    assert "kept the Ostmere lighthouse" in sel.text and "### " not in sel.text
    assert "[p. 1, Ada Brune]" in sel.text  # a small budget: the title without "3.2"
    kept = select(store, [doc.id], "Ada Brune", 60, options=SelectorOptions(skip_headings=False))
    assert "### 3.2 Ada Brune" in kept.text
    piece = Piece(segs[1], segs[1].text, "h.pdf")
    assert render([piece])[0].startswith("[p. 1, 3.2 Ada Brune] ")
    assert render([piece], compact=True, short=True)[0].startswith("[p. 1, Ada Brune] ")


def test_headings_of_text_without_pages_may_still_be_selected() -> None:
    store = Store()
    doc = add_text(store, "## Ada Brune\n\nShe kept the lighthouse.\n\n## Weather\n\nIt rains.")
    sel = select(store, [doc.id], "Ada Brune", 8)
    assert "Ada Brune" in sel.text  # no page marker names the section here


def test_contents_and_index_entries_are_not_selected() -> None:
    """A question that names a section ranked the contents' entry for it high ("9.2
    Binary indexed tree . . . 86"): it repeats the title and says nothing."""
    store = Store()
    text = (
        "9.1 Static array queries . . . . . . . . 84\n\n9.2 Binary indexed tree . . . . . . 86\n\n"
        "Fenwick tree … 86, 89 segment tree … 89\n\n"
        "A binary indexed tree supports prefix sum queries in logarithmic time. "
        "Each update of a binary indexed tree also takes logarithmic time. "
        "The weather in the valley was mild that year."
    )
    doc = add_text(store, text)
    sel = select(store, [doc.id], "what is a binary indexed tree?", 60)
    assert "prefix sum queries" in sel.text
    assert "86" not in sel.text and "…" not in sel.text
