"""Code set in a monospace font is one segment of its own (reader version 7).

R's "Writing R Extensions" sets its examples indented in a typewriter font, often in the same
MuPDF block as the sentence after them; read as prose, the example's last line and that
sentence became one segment ("...NULL, NULL); } This routine will be invoked ..."), and
each other line of the example a segment of its own.
"""

from __future__ import annotations

from pathlib import Path

import pymupdf

from ctxchat.engines.ingest import readers
from ctxchat.engines.ingest.code import ALL_MONO, ENDS_MONO, PROSE, code_lines, fenced, monospace
from ctxchat.engines.ingest.layout import RunningLines
from ctxchat.engines.ingest.readers import read_document
from ctxchat.engines.ingest.segment import CODE_UNIT_CHARS, paragraph_units, segment_pages

REGISTER = [
    (72, "helv", "Having created the arrays, the last step is to register them with R. For"),
    (72, "helv", "example, we would use the following code:"),
    (90, "cour", "void"),
    (90, "cour", "R_init_myLib(DllInfo *info)"),
    (90, "cour", "{"),
    (104, "cour", "R_registerRoutines(info, cMethods, callMethods, NULL, NULL);"),
    (90, "cour", "}"),
    (72, "helv", "This routine will be invoked when R loads the shared object named myLib."),
    (72, "helv", "The last two arguments are given as NULL since there are no such routines."),
]
# Its lines and their indentation kept (reader version 9): run into one line, a "//" comment
# swallowed the code after it.
CODE = "void\nR_init_myLib(DllInfo *info)\n{\n  R_registerRoutines(info, cMethods, callMethods, NULL, NULL);\n}"


def _pdf(
    path: Path, rows: list[tuple[float, str, str]], beside: tuple[str, float, str] | None = None
) -> Path:
    """One page of rows (x, font, text); `beside`: (a row's text, x, text set on its row)."""
    doc = pymupdf.open()
    page = doc.new_page()
    for k, (x, font, text) in enumerate(rows):
        page.insert_text((x, 100 + 12 * k), text, fontname=font, fontsize=10)
        if beside and beside[0] == text:
            page.insert_text((beside[1], 100 + 12 * k), beside[2], fontname=font, fontsize=10)
    doc.save(path)
    return path


def _texts(path: Path) -> list[str]:
    return [s.text for s in segment_pages(read_document(path).pages())]


def test_a_code_example_is_one_segment_apart_from_the_sentence_after_it(tmp_path) -> None:
    path = _pdf(tmp_path / "manual.pdf", REGISTER)
    blocks = [b for b in pymupdf.open(path)[0].get_text("dict")["blocks"] if b.get("lines")]
    fonts = [{s["font"] for ln in b["lines"] for s in ln["spans"]} for b in blocks]
    assert {"Courier", "Helvetica"} in fonts  # MuPDF: the example's end and prose, one block
    assert _texts(path) == [
        "Having created the arrays, the last step is to register them with R. For example, "
        "we would use the following code:",
        CODE,
        "This routine will be invoked when R loads the shared object named myLib.",
        "The last two arguments are given as NULL since there are no such routines.",
    ]


def test_a_typed_page_is_read_as_prose(tmp_path) -> None:
    """A page set in a monospace font all through (a screenplay, text printed to PDF) has
    no code examples: its lines are its prose."""
    rows = [(72, "cour", text) for _, _, text in REGISTER[:2] + REGISTER[-2:]]
    typed = _texts(_pdf(tmp_path / "typed.pdf", rows))
    set_in_helvetica = [(x, "helv", text) for x, _, text in rows]
    assert typed == _texts(_pdf(tmp_path / "typeset.pdf", set_in_helvetica))
    assert typed[-1] == REGISTER[-1][2]


def test_monospace_words_inside_a_sentence_stay_in_it(tmp_path) -> None:
    """A name at the margin that fills a line, and a link's words wrapped onto a line of
    their own (gnuplot's "See" / "solar path demo"), are the sentence's words."""
    rows = [
        (72, "helv", "Once the arrays are ready, call the registration routine named"),
        (72, "cour", "R_registerRoutines"),
        (72, "helv", "before any routine is used. For worked examples of plots, see"),
        (82, "cour", "solar path demo"),
        (72, "helv", "in the demo folder. Nothing else is needed."),
    ]
    texts = _texts(_pdf(tmp_path / "prose.pdf", rows))
    assert "named R_registerRoutines before any routine is used." in texts[0]
    assert any(t.endswith("see solar path demo in the demo folder.") for t in texts)


def test_a_fenced_markdown_example_is_one_unit_and_has_no_headings() -> None:
    text = "Run the installer:\n\n```bash\n# fetch it\npip install foo\n\nfoo --init\n```\n\nDone."
    assert list(paragraph_units(text)) == [
        ("Run the installer:", None, False),
        ("# fetch it\npip install foo\nfoo --init", None, True),
        ("Done.", None, False),
    ]


def test_a_long_example_is_cut_between_its_lines() -> None:
    lines = [f"x{k} <- compute(x{k - 1}, weight = {k})" for k in range(60)]
    units = list(paragraph_units("```\n" + "\n".join(lines) + "\n```"))
    assert len(units) > 1 and all(len(u[0]) <= CODE_UNIT_CHARS for u in units)
    assert "\n".join(u[0] for u in units) == "\n".join(lines)


def test_monospace_beside_prose_on_its_row_stays_in_the_line(tmp_path) -> None:
    """An algorithm's comment ends in "*/" set apart at the right of its row; a table's cell
    in a monospace font shares its row with the others."""
    rows = [
        (72, "helv", "1: u1 = m * s mod n"),
        (72, "helv", "2: U1 = [u1]G /* Computed in-circuit"),
        (72, "helv", "3: R = U1 + U2"),
    ]
    path = tmp_path / "algorithm.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    for k, (x, font, text) in enumerate(rows):
        page.insert_text((x, 100 + 12 * k), text, fontname=font, fontsize=10)
    page.insert_text((400, 112), "*/", fontname="cour", fontsize=10)
    doc.save(path)
    assert "*/" not in _texts(path)


def test_a_long_markdown_file_is_not_paged_inside_an_example(tmp_path) -> None:
    """A text file is read in pages of about 3,000 characters, cut at a blank line; a
    blank line inside a fenced example is no place to cut (the closing fence on the next
    page opened an example there, and the prose after it was read as code)."""
    prose = "\n\n".join(f"Paragraph {k} says what the tool does in plain words." for k in range(55))
    # 2,987-2,991 characters: the first blank line past 3,000 is the one inside the example.
    prose += " It is" + " very" * ((2978 - len(prose)) // 5) + " short."
    example = "\n".join(["```", "x <- 1", "", "y <- 2", "", "z <- x + y", "```"])
    path = tmp_path / "guide.md"
    path.write_text(f"{prose}\n\n{example}\n\nAfter the example, the sum is printed.\n")
    segments = list(segment_pages(read_document(path).pages()))
    pages = {s.text: s.page for s in segments}
    assert pages["x <- 1\ny <- 2\nz <- x + y"] == 1
    assert pages["After the example, the sum is printed."] == 2
    assert not any("```" in t for t in pages)


def test_a_url_broken_over_two_lines_stays_in_its_sentence() -> None:
    """A footnote of R's "Writing R Extensions" breaks a URL set in a monospace font after
    "https://hpc-tutorials.llnl."; its last part, "gov/openmp/", alone on the next line,
    was read as a code example. A one-line example after such a line still is one."""
    lines = [
        (72.0, 89.0, 300.0, 100.0, "The tutorials are at https://hpc-tutorials.llnl.", 0),
        (82.0, 101.0, 140.0, 112.0, "gov/openmp/", 0),
        (72.0, 113.0, 300.0, 124.0, "and cover all the versions.", 0),
    ]
    assert code_lines(lines, [ENDS_MONO, ALL_MONO, PROSE]) == [False, False, False]
    assert code_lines(lines, [PROSE, ALL_MONO, PROSE]) == [False, True, False]
    example = [*lines[:1], (*lines[1][:4], "> vec <- as.vector(X)", 0), *lines[2:]]
    assert code_lines(example, [ENDS_MONO, ALL_MONO, PROSE]) == [False, True, False]


def test_fonts_known_by_name_as_monospace() -> None:
    """Fonts embedded without PyMuPDF's monospace flag, as real PDFs name them: the C++
    Annotations (LaTeX through Ghostscript) sets its examples in Nimbus Mono L."""
    spans = [
        {"text": "virtual ~Vehicle();", "flags": 4, "font": font}
        for font in ("NimbusMonL-Regu", "NimbusMonoPS-Regular", "ABCDEF+CMTT10", "Courier")
    ]
    assert [monospace([s]) for s in spans] == [ALL_MONO] * 4
    assert monospace([{"text": "Vehicle", "flags": 4, "font": "CenturySchL-Roma"}]) == PROSE


def test_an_example_keeps_its_lines_indentation_and_comments_beside_code(tmp_path) -> None:
    """Run into one line, "virtual ~Vehicle(); // all derived ... // now virtual as well. };"
    put the closing brace inside a comment, and a Python example lost its blocks."""
    rows = [
        (72, "helv", "A destructor can be declared virtual. Example:"),
        (90, "cour", "class Vehicle"),
        (90, "cour", "{"),
        (114, "cour", "public:"),
        (138, "cour", "virtual ~Vehicle();"),
        (90, "cour", "};"),
        (72, "helv", "The same in Python:"),
        (90, "cour", "def area(shape):"),
        (114, "cour", "if shape.empty:"),
        (138, "cour", "return 0"),
        (114, "cour", "return shape.width * shape.height"),
        (72, "helv", "Both examples are complete."),
    ]
    # A comment set apart on the code's row.
    beside = ("virtual ~Vehicle();", 300, "// derived ones too")
    texts = _texts(_pdf(tmp_path / "book.pdf", rows, beside))
    assert (
        "class Vehicle\n{\n    public:\n        virtual ~Vehicle();"
        + " " * 8  # to column 35: (300 - 90) points / 6 a character
        + "// derived ones too\n};"
    ) in texts
    assert (
        "def area(shape):\n    if shape.empty:\n        return 0\n"
        "    return shape.width * shape.height"
    ) in texts
    assert texts[-1] == "Both examples are complete."


def test_a_markdown_example_keeps_its_own_indentation(tmp_path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("Call it:\n\n```python\n    for x in xs:\n\tprint(x)\n```\n")
    assert _texts(path)[1] == "for x in xs:\nprint(x)"  # a tab is four spaces
    path.write_text("Call it:\n\n```python\n    for x in xs:\n        print(x)\n```\n")
    assert _texts(path)[1] == "for x in xs:\n    print(x)"


def test_an_example_a_page_break_cuts_is_one_segment_with_its_indentation(tmp_path) -> None:
    """The C++ Annotations' examples that run over a page break left their last lines
    ("}") under the next page's marker, and the part overleaf lost its indentation."""
    path = tmp_path / "book.pdf"
    doc = pymupdf.open()
    first = doc.new_page()
    first.insert_text((72, 700), "The area is computed by a function:", fontname="helv")
    first.insert_text((90, 730), "def area(shape):", fontname="cour", fontsize=10)
    first.insert_text((114, 742), "if shape.empty:", fontname="cour", fontsize=10)
    second = doc.new_page()
    second.insert_text((138, 72), "return 0", fontname="cour", fontsize=10)
    second.insert_text((114, 84), "return shape.width * shape.height", fontname="cour", fontsize=10)
    second.insert_text((72, 110), "It returns the area of the shape.", fontname="helv")
    doc.save(path)
    segments = list(segment_pages(read_document(path).pages()))
    code = (
        "def area(shape):\n    if shape.empty:\n        return 0\n"
        "    return shape.width * shape.height"
    )
    assert [(s.text, s.page) for s in segments] == [
        ("The area is computed by a function:", 1),
        (code, 1),
        ("It returns the area of the shape.", 2),
    ]


def test_code_with_degenerate_glyph_boxes_is_read_without_columns() -> None:
    """An invisible text layer can give every glyph a zero width: no division by it, and no
    line pushed past a sane column."""
    lines = [
        (90.0, 100.0, 90.0, 110.0, "int main()", 0),
        (400.0, 112.0, 400.0, 122.0, "{ return 0; }", 0),
    ]
    assert fenced(lines, 72.0) == "```\nint main()\n{ return 0; }\n```"
    wide = [
        (90.0, 100.0, 150.0, 110.0, "int main()", 0),
        (90.0, 112.0, 96.0, 122.0, "{", 0),
        (5000.0, 124.0, 5006.0, 134.0, "}", 0),
    ]
    assert fenced(wide, 90.0).split("\n")[3] == " " * 80 + "}"


def test_comments_set_beside_code_stay_on_their_lines(tmp_path) -> None:
    """Gri's manual sets a program's lines with a comment at the right of each: each comment
    stays on its code's line, at its column."""
    program = [
        ("open example1.dat", "# Open the data file"),
        ("read columns x y", "# Read (x,y) columns"),
        ("draw curve", "# Draw data curve"),
        ('draw title "Example 1"', "# Title above plot"),
        ("draw axes", "# Axes around the plot"),
    ]
    path = tmp_path / "gri.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Here is a Gri command file to plot a linegraph:", fontname="helv")
    for k, (code, comment) in enumerate(program):
        page.insert_text((90, 120 + 12 * k), code, fontname="cour", fontsize=10)
        page.insert_text((240, 120 + 12 * k), comment, fontname="cour", fontsize=10)
    page.insert_text((72, 190), "The first line opens the file.", fontname="helv")
    doc.save(path)
    texts = _texts(path)
    assert not any("|" in t for t in texts)
    assert "\n".join(f"{code:25}{comment}" for code, comment in program) in texts


# Lines of page 19 of Gri's manual (texinfo, Computer Modern) as PyMuPDF reports them: a
# program whose comments are set at the right of its lines, in the block of the prose
# after it. (x0, y0, x1, y1, text, font); one span a line.
GRI_PAGE = [
    [
        (
            90.0,
            293.6,
            522.0,
            303.3,
            "Here is a Gri command file to plot a linegraph of a set "
            "of (x,y) data, stored as space-separated",
            "CMR10",
        ),
        (90.0, 305.6, 274.5, 315.5, "columns in a file called example1.dat:", "CMR10"),
    ],
    [
        (118.8, 322.4, 399.4, 331.5, "# Example 1 -- Linegraph of data in separate file", "CMTT10"),
        (118.8, 334.4, 216.2, 343.4, "open example1.dat", "CMTT10"),
        (244.8, 334.4, 359.3, 343.4, "# Open the data file", "CMTT10"),
        (118.8, 346.3, 210.4, 355.4, "read columns x y", "CMTT10"),
        (244.8, 346.3, 359.3, 355.4, "# Read (x,y) columns", "CMTT10"),
        (118.8, 358.3, 176.1, 367.4, "draw curve", "CMTT10"),
        (244.8, 358.3, 342.2, 367.4, "# Draw data curve", "CMTT10"),
        (
            90.0,
            385.3,
            522.0,
            395.2,
            "The first line is a comment, as are all things following "
            "hash symbols (#). (An exception to",
            "CMR10",
        ),
        (
            90.0,
            397.2,
            522.0,
            407.2,
            "this rule is made within strings contained within the "
            'double-quote character ". This allows',
            "CMR10",
        ),
    ],
]


def test_code_beside_its_comments_in_a_prose_block_is_no_table() -> None:
    """Read as a table, Gri's program became "| open example1.dat: draw curve | # Open the
    data file: # Draw data curve |"."""
    blocks = []
    for number, lines in enumerate(GRI_PAGE):
        spans = [
            {
                "text": t,
                "font": f,
                "flags": 12 if f == "CMTT10" else 4,
                "size": 10.91,
                "bbox": (x0, y0, x1, y1),
                "origin": (x0, y1 - 2),
            }
            for x0, y0, x1, y1, t, f in lines
        ]
        blocks.append(
            {
                "number": number,
                "type": 0,
                "bbox": (90, 293, 522, 408),
                "lines": [{"bbox": s["bbox"], "spans": [s]} for s in spans],
            }
        )
    text = readers._page_text({"blocks": blocks}, RunningLines(), 19)
    assert "|" not in text.replace("(x,y)", "")
    assert "open example1.dat     # Open the data file\n     read columns x y" in text


def test_an_example_far_from_the_margin_keeps_its_own_columns() -> None:
    """An example in a page's right column starts far from the page's text margin: that
    distance is no reason to cap the indentation inside the example."""
    lines = [
        (600.0, 100.0, 660.0, 110.0, "int main()", 0),
        (600.0, 112.0, 606.0, 122.0, "{", 0),
        (624.0, 124.0, 678.0, 134.0, "return 0;", 0),
        (600.0, 136.0, 606.0, 146.0, "}", 0),
    ]  # a landscape page's right column: 88 characters from the margin
    body = fenced(lines, 72.0).split("\n")[1:-1]
    assert [len(b) - len(b.lstrip()) for b in body] == [88, 88, 92, 88]
