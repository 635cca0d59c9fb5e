"""Generated factual documents: prose with names, numbers, dates and rare terms among filler.

Everything comes from a seeded random generator, so the same seed gives the same text on any
machine. Each fact sentence records its answers (the number, name or term it states), which the
word-survival benchmark turns into cloze questions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ctxchat.engines.training.words import STOP_WORDS

_ONSETS = "b br c ch cl d dr f fl g gr h j k kr l m n p pr qu r s sh st t th tr v w z".split()
_VOWELS = "a e i o u ai ea io ou".split()
_CODAS = "n r l s th m x nd rt ck ss".split()
_TERM_SUFFIXES = "ine ase ite ium osis ometry idase olith ogen aphy ene ar".split()
_PLACE_SUFFIXES = "ford ia ton mouth vale burg stad ova heim field".split()
_ORG_KINDS = "Institute Foundation Laboratories Society Works Observatory Consortium".split()
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_UNITS = "kilometres metres tonnes litres kilograms hectares megawatts volts".split()
_MATERIALS = "copper sand glass resin silk granite clay timber cobalt salt".split()
_FIELDS = "geology botany acoustics optics metallurgy cartography hydrology linguistics".split()
_THINGS = "bridge tunnel dam canal tower library museum railway harbour reservoir".split()

# Filler carries no facts: the words a good compressor should drop first.
_FILLERS = [
    "It is worth noting that ",
    "As a matter of fact, ",
    "In other words, ",
    "Interestingly enough, ",
    "For what it is worth, ",
    "As most readers will probably already know, ",
    "To put it simply, ",
    "Needless to say, ",
    "At the end of the day, ",
    "Generally speaking, ",
    "",
    "",
    "",
    "",
]
_FILLER_SENTENCES = [
    "This is, in many ways, a point that we will come back to again later on.",
    "Of course, it goes without saying that not everyone agreed with this at the time.",
    "There were, as there always are, a number of different opinions about all of this.",
    "It is easy to see why this was considered to be quite important by many people.",
    "Many of the people who were involved would later say that it had been worth it.",
    "In the end, it all turned out to be a great deal more complicated than expected.",
    "This was not the first time that such a thing had happened, and it would not be the last.",
    "Some of this may seem obvious now, but it was not at all obvious back then.",
    "The details of what happened next are, for the most part, fairly well known.",
    "It should be said that there is still some debate about how this came about.",
    "For a long time afterwards, very little was said or written about any of it.",
    "It is perhaps not surprising that the reaction was a mixed one.",
]


@dataclass
class Fact:
    """One stated fact: its sentence and the answers a cloze question could ask for."""

    sentence: str
    answers: list[tuple[str, str]]  # (answer string, kind: number | name | term)


@dataclass
class GeneratedDoc:
    title: str
    text: str
    facts: list[Fact] = field(default_factory=list)


class _Vocab:
    """Random invented names, places and rare terms (unseen words, like real proper nouns)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _syllables(self, n: int) -> str:
        r = self.rng
        parts = [r.choice(_ONSETS) + r.choice(_VOWELS) for _ in range(n)]
        if r.random() < 0.5:
            parts.append(r.choice(_CODAS))
        return "".join(parts)

    def person(self) -> str:
        first = self._syllables(self.rng.randint(1, 2)).capitalize()
        last = self._syllables(self.rng.randint(2, 3)).capitalize()
        return f"{first} {last}"

    def surname(self) -> str:
        return self._syllables(self.rng.randint(2, 3)).capitalize()

    def place(self) -> str:
        return (self._syllables(self.rng.randint(1, 2)) + self.rng.choice(_PLACE_SUFFIXES)).title()

    def org(self) -> str:
        return f"{self.surname()} {self.rng.choice(_ORG_KINDS)}"

    def term(self) -> str:
        return self._syllables(self.rng.randint(1, 2)) + self.rng.choice(_TERM_SUFFIXES)

    def year(self) -> str:
        return str(self.rng.randint(1820, 2024))

    def count(self) -> str:
        n = self.rng.choice([self.rng.randint(3, 99), self.rng.randint(100, 9999)])
        return f"{n:,}" if n >= 1000 and self.rng.random() < 0.5 else str(n)

    def decimal(self) -> str:
        return f"{self.rng.uniform(0.1, 99):.{self.rng.randint(1, 2)}f}"

    def percent(self) -> str:
        return f"{self.rng.randint(2, 95)}%"

    def money(self) -> str:
        return f"${self.rng.randint(2, 900)}.{self.rng.randint(1, 9)} million"

    def date(self) -> tuple[str, str]:
        day = self.rng.randint(1, 28)
        month = self.rng.choice(_MONTHS)
        year = self.year()
        return f"{day} {month} {year}", year


# The fact templates: str.format fields are the slots _draw_slots fills; answers name the
# slots a cloze question may ask for, with their kind. The order is part of the seeded output.
_FACT_TEMPLATES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "{person} was born in {place} in {year}, and later studied {fld} there.",
        (("last", "name"), ("place", "name"), ("year", "number")),
    ),
    (
        "The {org} reported a revenue of {money} in {year}, which was up {pct} on the year before.",
        (("money_amount", "number"), ("pct", "number")),
    ),
    (
        "According to {person}, the so-called {term} process needs about {count} {unit} of {material}.",
        (("term", "term"), ("count", "number"), ("last", "name")),
    ),
    (
        "On {date}, {person} moved to {place}, where the work on {term} went on for {years} years.",
        (("date_year", "number"), ("place", "name"), ("term", "term")),
    ),
    (
        "The {thing} at {place} is {count} metres long and it was finally opened in {year}.",
        (("count", "number"), ("place", "name"), ("year", "number")),
    ),
    (
        "The compound that chemists call {term} melts at roughly {dec} degrees, as {person} showed.",
        (("term", "term"), ("dec", "number"), ("last", "name")),
    ),
    (
        "By {year}, the {org} had as many as {count} members in {place} alone.",
        (("count", "number"), ("org_word", "name")),
    ),
    (
        "The survey found that {pct} of the households in {place} used {term} every day.",
        (("pct", "number"), ("term", "term"), ("place", "name")),
    ),
    (
        "{person} was the first to describe {term}, in a short paper written in {year}.",
        (("term", "term"), ("year", "number"), ("last", "name")),
    ),
    (
        "Over the years the {thing} has cost the city of {place} about {money} in repairs.",
        (("money_amount", "number"), ("place", "name")),
    ),
    (
        "When the {org} was founded in {year}, it had only {count} employees and a budget of {money}.",
        (("year", "number"), ("count", "number")),
    ),
    (
        "The measured value of the {term} constant was {dec}, which was close to what {person} predicted.",
        (("dec", "number"), ("term", "term"), ("last", "name")),
    ),
    (
        "In {place}, the {fld} department is led by {person}, who joined it in {year}.",
        (("last", "name"), ("year", "number")),
    ),
    (
        "A batch of {count} {unit} of {material} was shipped from {place} to the {org}.",
        (("count", "number"), ("place", "name")),
    ),
)


def _draw_slots(v: _Vocab) -> dict[str, str]:
    """Every template slot, drawn from v.rng in a fixed order (the seeded output depends on it)."""
    r = v.rng
    person, place, org, term = v.person(), v.place(), v.org(), v.term()
    year, count, dec, pct = v.year(), v.count(), v.decimal(), v.percent()
    date, date_year = v.date()
    unit, material, fld, thing = (
        r.choice(_UNITS),
        r.choice(_MATERIALS),
        r.choice(_FIELDS),
        r.choice(_THINGS),
    )
    money = v.money()
    years = str(r.randint(2, 40))
    return {
        "person": person,
        "last": person.split()[-1],
        "place": place,
        "org": org,
        "org_word": org.split()[0],
        "term": term,
        "year": year,
        "count": count,
        "dec": dec,
        "pct": pct,
        "date": date,
        "date_year": date_year,
        "unit": unit,
        "material": material,
        "fld": fld,
        "thing": thing,
        "money": money,
        "money_amount": money.split()[0],
        "years": years,
    }


def _fact(v: _Vocab) -> Fact:
    """One fact sentence from a randomly chosen template."""
    r = v.rng
    filler = r.choice(_FILLERS)
    slots = _draw_slots(v)
    template, answer_slots = r.choice(_FACT_TEMPLATES)
    sentence = template.format(**slots)
    answers = [(slots[name], kind) for name, kind in answer_slots]
    first = sentence.split()[0]
    if filler and (first.lower() in STOP_WORDS or first == "According"):
        sentence = filler + sentence[0].lower() + sentence[1:]
    elif filler:
        sentence = filler + sentence  # the sentence opens with a name: keep its capital
    return Fact(sentence=sentence, answers=answers)


def generate_documents(
    n_docs: int, seed: int, facts_per_doc: tuple[int, int] = (6, 12)
) -> list[GeneratedDoc]:
    """`n_docs` short documents of fact sentences mixed with filler sentences."""
    rng = random.Random(seed)
    vocab = _Vocab(rng)
    docs = []
    for i in range(n_docs):
        facts: list[Fact] = []
        sentences: list[str] = []
        for _ in range(rng.randint(*facts_per_doc)):
            fact = _fact(vocab)
            facts.append(fact)
            sentences.append(fact.sentence)
            if rng.random() < 0.45:
                sentences.append(rng.choice(_FILLER_SENTENCES))
        paragraphs, current = [], []
        for sentence in sentences:
            current.append(sentence)
            if len(current) >= rng.randint(3, 6):
                paragraphs.append(" ".join(current))
                current = []
        if current:
            paragraphs.append(" ".join(current))
        docs.append(
            GeneratedDoc(title=f"generated-{seed}-{i}", text="\n\n".join(paragraphs), facts=facts)
        )
    return docs
