"""What kind of thing a question asks for, and whether a sentence holds one it does not name.

"Who directed ...?" wants a person's name, "When ...?" a date, "How many ...?" a number,
"Where ...?" a place. A sentence that holds such a thing the question does not already
name is likelier to answer it than one that only repeats the question's words: the
evidence picker (evidence.py) and the grounding check (grounding.py) both read this.
Plain rules, no model: the same answer on every machine.
"""

from __future__ import annotations

import re

PERSON, DATE, NUMBER, PLACE, YESNO, OTHER = "person", "date", "number", "place", "yesno", "other"
CHOICE = "choice"  # "Which was born first, A or B?": the answer is one the question names

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b")
# A month counts only beside a number ("May 5", "5 May"): "Theresa May" is no date.
_DATE = re.compile(
    rf"\b\d{{1,2}}\s+(?:{_MONTHS})\b|\b(?:{_MONTHS})\s+\d{{1,4}}\b|\b(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)[- ]century\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozen)\b",
    re.IGNORECASE,
)
# A run of capitalised words (joined by "of", "de", "van", ... or a hyphen): a name.
_NAME = re.compile(
    r"\b[A-Z][\w'\u00c0-\u024f-]*(?:\s+(?:(?:of|de|del|van|von|der|da|la|le|the|and)\s+)?"
    r"[A-Z][\w'\u00c0-\u024f-]*)*"
)
_WORD = re.compile(r"[\w\u00c0-\u024f]+")
# A paper's numbered references: "[26]", "[12, 13]", "[4-7]".
# "[26]", "[3, 4]", "[5-7]"; and a raised mark after a word ("infected^5,6", ingest's
# superscripts.py), not after a digit, where it is an exponent ("10^5").
_CITATIONS = re.compile(
    r"\[\s*\d+(?:\s*[,\u2013-]\s*\d+)*\s*\]|(?<=[^\d\s])\^\d+(?:[,\u2013\u2212-]\d+)*"
)
# Capitalised words that are no name (sentence openers, pronouns, months, days).
_NOT_NAMES = frozenset(
    (
        "the a an in on at of for by with from to and or but as it its this that these those "
        "he she they we i you his her their our there here when where what which who whom why "
        "how after before during since until while although though however also then thus "
        "is are was were be has have had do does did not no yes if so all some many most "
        "monday tuesday wednesday thursday friday saturday sunday " + _MONTHS.replace("|", " ")
    ).split()
)
_YESNO = re.compile(
    r"^(?:is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b", re.IGNORECASE
)
_PERSON_NOUNS = re.compile(
    r"\b(?:who|whom|whose|person|man|woman|actor|actress|singer|director|author|writer|"
    r"player|coach|president|founder|husband|wife|son|daughter|father|mother|brother|"
    r"sister|king|queen|artist|musician|composer|producer|politician|leader|member|star|"
    r"character|poet|novelist|scientist|footballer|manager|designer|architect|general|"
    r"emperor|officer|commander|ruler|pope|monarch|chancellor|minister|senator|governor|"
    r"judge|lawyer|journalist|physicist|chemist|philosopher|painter|inventor|explorer|"
    r"boxer|wrestler|rapper|vocalist|guitarist|bassist|drummer|comedian|host)\b",
    re.IGNORECASE,
)
_CHOICE = re.compile(r"\b(?:which|who|what)\b.*\bor\b", re.IGNORECASE)
# The options of a choice follow a comma ("..., A or B?") or are names on both sides of
# "or" ("Which genus has more species Eucryphia or Lepidozamia?"); "a mixed or specific
# breed" and "which first college or university" coordinate nouns and offer no options.
_OPTIONS_AFTER_COMMA = re.compile(r",[^,]*\bor\b[^,]*$")
_NAMES_AROUND_OR = re.compile(r"(?:^|\s)[\"'(]?[A-Z0-9][^\s]*\s+or\s+[\"'(]?[A-Z0-9]")
_SKIP = frozenset("is was are were the a an of this that these kind type".split())
_PLACE_NOUNS = re.compile(
    r"\b(?:where|city|country|state|town|county|island|river|located|born in|headquartered|"
    r"nation|region|province|village|capital|bay|sea|ocean|lake|mountain|district|"
    r"neighborhood|neighbourhood|street|airport|stadium)\b",
    re.IGNORECASE,
)


# "When" asks for a date where it opens the question (or a clause of it) or closes it ("...
# was born when?"); elsewhere it joins a condition: "what does f return when the length is
# indefinite?", "Which team did he play for when they won the final?".
_ASKS_WHEN = re.compile(r"(?:^|[,;:]\s*)when\b|\bwhen\W*$")


def answer_type(question: str) -> str:
    """The kind of answer `question` asks for: person, date, number, place, yesno, other."""
    q = question.strip().lower()
    if _YESNO.match(q) and " or " not in q:
        return YESNO
    if _CHOICE.search(q) and offers_options(question) and len(options(question)) >= 2:
        return CHOICE
    if re.search(r"\bhow (?:many|much|long|old|tall|far|big|large|high)\b", q):
        return NUMBER
    if _ASKS_WHEN.search(q) or re.search(r"\b(?:what|which|in what) (?:year|date|decade)\b", q):
        return DATE
    if re.search(r"\bwhere\b", q):
        return PLACE
    if re.search(r"\b(?:who|whom|whose)\b", q):
        return PERSON
    for noun in _head_nouns(q):
        if _PERSON_NOUNS.fullmatch(noun):
            return PERSON
        if _PLACE_NOUNS.fullmatch(noun):
            return PLACE
        if noun in ("year", "date", "decade", "century", "month"):
            return DATE
        if noun in ("number", "population", "amount", "percentage", "age"):
            return NUMBER
    return OTHER


def _head_nouns(q: str) -> list[str]:
    """The first few words after "what" or "which" (articles and copulas skipped)."""
    match = re.search(r"\b(?:what|which)\s+(.*)", q)
    if not match:
        return []
    # Hyphenated words stay whole: a "number-one single" is a single, not a number.
    return [w for w in re.findall(r"[a-z]+(?:-[a-z]+)*", match.group(1))[:4] if w not in _SKIP][:2]


def offers_options(question: str) -> bool:
    """Whether the "or" of `question` joins options to choose from, not two nouns."""
    text = question.strip()
    return bool(_OPTIONS_AFTER_COMMA.search(text) or _NAMES_AROUND_OR.search(text))


def options(question: str) -> list[str]:
    """The names a choice question offers ("..., A or B?" -> [A, B])."""
    match = re.search(r"([^,:]*)\s+or\s+([^,?]*)\??\s*$", question.strip())
    if not match:
        return []
    left = names(match.group(1))
    right = names(match.group(2)) or [match.group(2).strip(" ?\"'")]
    found = [o for o in (left[-1] if left else "", right[0] if right else "") if o]
    return found


def names(text: str) -> list[str]:
    """Capitalised names in `text`, openers and function words left out."""
    found = []
    for match in _NAME.finditer(text):
        words = [w for w in match.group(0).split() if w.lower() not in _NOT_NAMES]
        if words and any(w[0].isupper() for w in words):
            found.append(" ".join(words))
    return found


def name_spans(text: str) -> list[str]:
    """Capitalised names in `text` as written ("House of Cards" keeps its "of"), split at
    "and"; openers and function words at either end left out."""
    found = []
    pieces = (p for m in _NAME.finditer(text) for p in re.split(r"\s+and\s+", m.group(0)))
    for piece in pieces:
        words = piece.split()
        while words and words[0].lower() in _NOT_NAMES:
            words.pop(0)
        while words and words[-1].lower() in _NOT_NAMES:
            words.pop()
        if words and words[0][0].isupper():
            found.append(" ".join(words))
    return found


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def new_things(sentence: str, question: str, kind: str) -> list[str]:
    """Things of the asked-for kind in `sentence` that `question` does not name."""
    asked = _words(question)
    sentence = _CITATIONS.sub(" ", sentence)  # "[26] [27]" are references, not counts
    if kind == DATE:
        found = [m.group(0) for m in _DATE.finditer(sentence)]
    elif kind == NUMBER:
        found = [m.group(0) for m in _NUMBER.finditer(sentence)]
    elif kind in (PERSON, PLACE, OTHER):
        found = names(sentence)
    elif kind == CHOICE:
        return sorted(named_options(sentence, question))
    else:
        return []
    return [f for f in found if not _words(f) <= asked]


def new_counts(sentence: str, question: str) -> list[str]:
    """The numbers of `sentence` that `question` does not name, years left out: what can
    answer "how many"."""
    found = new_things(sentence, question, NUMBER)
    return [f for f in found if not _YEAR.fullmatch(f)]


def named_options(sentence: str, question: str) -> set[str]:
    """The options of a choice question that `sentence` names (all of an option's words)."""
    words = _words(sentence)
    return {o for o in options(question) if _words(o) and _words(o) <= words}


def has_year(text: str) -> bool:
    return bool(_YEAR.search(text))
