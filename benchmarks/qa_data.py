"""A generated long-document QA set: fictional gazetteer-style documents with buried facts.

Each document (3k-20k cl100k tokens) has Markdown sections of filler prose that reuses the
same people, places and organisations, with facts whose answers are names, numbers and
dates. Questions paraphrase the fact (synonyms, other word order) instead of copying it,
and some facts need the sentence before them ("She later wrote ..."), as in real prose.
Every answer string occurs exactly once in its document, so "the answer survived
compression" is a plain substring test.

A regression check only, never a headline: the generator decides what is easy. Fillers
carry numbers, dates and once-seen names too (decoys), so a selector that never reads the
question cannot find the facts by their shape; whole fact templates are held out for the
test split (split="test"), the others make the dev split that --tune uses.

    from benchmarks.qa_data import build_qa_set
    for doc in build_qa_set(n_docs=20, seed=1):
        doc.text, doc.questions  # [(question, answer), ...]
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ctxchat.engines.tokens import count_tokens


@dataclass
class QADoc:
    title: str
    text: str
    questions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return count_tokens(self.text)


# -- vocabulary --------------------------------------------------------------------------

FIRST = (
    "Marta Ilse Tomas Odile Renata Viktor Anselm Greta Lucian Sabine Teodor Mirela Casimir "
    "Hedda Bruno Alma Emil Ottilie Ferdinand Nadia Leopold Ivana Stellan Agathe Konrad "
    "Linnea Matthias Oksana Raoul Helka Benedikt Zora Cyril Elodie Valter Irma Gustav "
    "Petra Jasper Marit"
).split()
SURNAME_A = "Var Kost Bel Tren Mor Hal Dren Sor Lind Vek Brun Ast Cor Fal Gred Hol Kal Mer".split()
SURNAME_B = "enko ova al ström ski ard ecki ane ovic berg holm ier ssen mann ow ella".split()
PLACE_A = "Ost Vel Kar Tam Bre Lor Sil Dun Mar Fen Gal Rav Hel Tor Ul Ner Ashe Corv Dal".split()
PLACE_B = "ava heim mora dorf wick lund grad ovo sted mere ford haven ria ton ek".split()
ORG_KIND = (
    "Institute of Hydrology|Mining Company|Printing Guild|Academy of Sciences|Shipping "
    "Society|Textile Cooperative|Botanical Society|Railway Board|Savings Bank|Glassworks|"
    "Conservatory|Observatory|Brewers' Union|Map Office|Weather Service"
).split("|")
ANIMALS = "beetle|moth|freshwater snail|cave spider|dragonfly|salamander|orchid bee|wren".split("|")
PRIZES = "Amber|Halvard|Cobalt Star|Linden|North Gate|Silver Quill|Meridian".split("|")
TOPICS = (
    "glacier retreat|river sediments|medieval trade routes|folk songs|bridge engineering|"
    "soil chemistry|migratory birds|tidal mills|printing presses|dialect maps"
).split("|")
MONTHS = (
    "January February March April May June July August September October November December"
).split()
TITLE_WORDS = (
    "Salt Lantern Winter Harbour Copper Orchard Silent Meadow Iron Tide Ember Glass".split()
)

# -- facts: (sentence(s), [(question, answer slot)]) -------------------------------------
# Slots: P person, P2 second person, L place, L2 second place, O organisation, Y year, D date,
# N number, M money, T title, A animal, Z prize, C topic, R river, K mountain, S ship.
FACTS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "{P} was appointed director of the {O} in {Y}.",
        [("In which year did {P} take charge of the {O}?", "Y")],
    ),
    (
        "The bridge over the {R} River at {L} opened to traffic on {D}.",
        [("When could vehicles first cross the {R} at {L}?", "D")],
    ),
    (
        "Building the reservoir above {L} cost {M} crowns in total.",
        [("How much money was spent on constructing {L}'s reservoir?", "M")],
    ),
    (
        "{P} described a previously unknown {A} near {L} in {Y}.",
        [("Who first identified the new {A} species found close to {L}?", "P")],
    ),
    (
        "{P} grew up in the fishing town of {L}. She later wrote the novel {T}.",
        [("Which book is {P} the author of?", "T")],
    ),
    (
        "According to the census of {Y}, {L} had {N} inhabitants.",
        [("How many people were living in {L} when it was counted in {Y}?", "N")],
    ),
    (
        "The {O} employs {N} engineers at its works in {L}.",
        [("What is the size of the engineering staff at the {O} plant in {L}?", "N")],
    ),
    (
        "{P} received the {Z} Prize for research on {C}.",
        [("Which award was given to {P} for studying {C}?", "Z")],
    ),
    (
        "About {N} visitors travel to {L} every summer for its lantern festival.",
        [("Roughly how many guests come to the {L} lantern celebration each year?", "N")],
    ),
    (
        "The steamer {S} sank off the coast of {L} on {D}.",
        [("On what date was the ship {S} lost near {L}?", "D")],
    ),
    (
        "The {L} treaty was signed by {P} and {P2}.",
        [("Who put their name to the {L} agreement alongside {P2}?", "P")],
    ),
    (
        "In {Y} the {O} moved its headquarters from {L} to {L2}.",
        [("To which town did the {O} relocate its head office?", "L2")],
    ),
    (
        "The summit of Mount {K} rises {N} metres above sea level.",
        [("How high is the peak of {K}?", "N")],
    ),
    ("The {O} was founded by {P}.", [("Who established the {O}?", "P")]),
    (
        "A flood in {L} destroyed {N} houses in the spring of {Y}.",
        [("How many homes were ruined when the water rose in {L}?", "N")],
    ),
    (
        "The railway linking {L} with {L2} was completed in {Y}.",
        [("When did trains start running between {L2} and {L}?", "Y")],
    ),
    (
        "{P} served as mayor of {L} for {N} years.",
        [("For how long did {P} lead the {L} town council?", "N")],
    ),
    (
        "The municipal library of {L} preserves {N} medieval manuscripts.",
        [("How many handwritten codices from the Middle Ages are kept in {L}'s library?", "N")],
    ),
    (
        "The {O} opened a field laboratory in {L}. It was led by {P} for two decades.",
        [("Who headed the field laboratory that the {O} set up in {L}?", "P")],
    ),
    (
        "{P} composed the opera {T} for the theatre in {L}.",
        [("Which operatic work did {P} write for {L}?", "T")],
    ),
    (
        "Archaeologists dated the clay tablets from {L} to about {N} BC.",
        [("How old are the clay tablets unearthed at {L}?", "N")],
    ),
    ("{P} was born in {L} on {D}.", [("On what day did {P} come into the world?", "D")]),
    (
        "The {R} River flows {N} kilometres before it reaches the sea.",
        [("What is the length of the {R}?", "N")],
    ),
    (
        "The {O} reported a profit of {M} crowns for the year {Y}.",
        [("How much did the {O} earn in {Y}?", "M")],
    ),
    (
        "The tunnel under the {R} at {L} was designed by the architect {P}.",
        [("Who drew up the plans for the {L} tunnel beneath the {R}?", "P")],
    ),
    (
        "{P} joined the {O} as a junior clerk. He became its chairman in {Y}.",
        [("When did {P} rise to head the board of the {O}?", "Y")],
    ),
    (
        "The lighthouse at {L} was first lit on {D}.",
        [("When did the {L} beacon begin shining?", "D")],
    ),
    (
        "The old market hall of {L} burned down in {Y} and was never rebuilt.",
        [("In what year was {L}'s market hall lost to fire?", "Y")],
    ),
    ("{P} married {P2} in {L} in {Y}.", [("Whom did {P2} wed in {L}?", "P")]),
    (
        "The {O} keeps a collection of {N} pressed plants from the region.",
        [("How large is the herbarium held by the {O}?", "N")],
    ),
    (
        "Schooling in {L} became free of charge in {Y} under a law proposed by {P}.",
        [
            ("Who put forward the law that made education in {L} free?", "P"),
            ("When did {L} stop charging fees for school?", "Y"),
        ],
    ),
    (
        "The weather station at {L} recorded {N} millimetres of rain in a single day.",
        [("What was the largest one-day rainfall measured at {L}?", "N")],
    ),
]

FILLER = [
    "Visitors to {L} often remark on the narrow streets and the smell of the harbour.",
    "Local historians still debate the role the {O} played in the region.",
    "{P} wrote several letters about {C}, most of them now lost.",
    "The road from {L} to {L2} follows the valley of the {R} for most of its length.",
    "In the years that followed, trade along the coast grew slowly but steadily.",
    "Many families in {L} kept small gardens with apples, plums and cabbages.",
    "The {O} published a yearly bulletin that was read well beyond {L}.",
    "Winters in the uplands are long, and snow can close the passes for weeks.",
    "A later survey confirmed most of the earlier observations on {C}.",
    "The town council met in a modest building near the square in {L}.",
    "{P} is remembered in {L} mainly for a series of public lectures.",
    "Records from this period are incomplete, since many archives were damaged.",
    "Fishing remained the main source of income for villages near {L2}.",
    "The landscape around Mount {K} is dominated by pine forest and bare rock.",
    "Several smaller societies merged with the {O} over the following decades.",
    "Travellers described the inns of {L} as clean but expensive.",
    "The debate about {C} continued in newspapers for many months.",
    "A new school building replaced the wooden one that had served {L} for generations.",
    "The {R} freezes in most winters, which once made it a road for sledges.",
    "{P} and {P2} corresponded for years about {C}.",
    "The museum in {L2} displays tools, costumes and old photographs of the area.",
    "Some of the original buildings of the {O} survive as private houses.",
    "Boats from {L} carried timber, tar and salted fish to distant ports.",
    "The region's dialect differs noticeably from the speech of the capital.",
    "Observers noted that the harvests improved after the drainage works.",
    "The churches of {L} contain carved altarpieces by unknown local masters.",
    "Until the railway came, goods moved by cart along the {R} valley.",
    "Critics praised the clear style of the reports issued by the {O}.",
    "The population of the valley declined when younger people moved to the cities.",
    "Summer markets in {L2} drew farmers from all the surrounding parishes.",
    "Much of what is known about {C} in this area comes from the {O}.",
    "The old customs house at {L} now serves as a cafe and a small gallery.",
    "It was not the first time that the {R} had changed its course.",
    "This arrangement lasted until the reforms of the following century.",
    "{P} later admitted that the early measurements had been rough.",
    "The harbour of {L2} was deepened twice to admit larger ships.",
]
# Fillers with the shape of a fact (a number, a date, a name seen once) that no question
# asks about: without them the sentences holding a digit or a rare name are the facts.
DECOY_FILLER = [
    "In {Y0} the {O} counted {N0} members, most of them from {L}.",
    "A storm on {D0} damaged the pier at {L2}, though nobody was hurt.",
    "{P0} of {L} kept a diary of the weather from {Y0} onwards.",
    "The ferry between {L} and {L2} carried about {N0} passengers a month.",
    "The guidebook of {Y0} gives {L} a page and its {N0} registered boats a second one.",
    "{P0}, a teacher from {L2}, collected songs about {C}.",
    "The {O} held its annual meeting on {D0} in the hall at {L}.",
    "Repairs to the road along the {R} cost some {N0} crowns in {Y0}.",
    "A portrait of {P0} hangs in the reading room of the {O}.",
    "By {Y0} the valley of the {R} had {N0} working mills.",
]
# Every TEST_EVERY-th fact template (from the 4th) is held out for the test split.
TEST_EVERY = 4
SECTIONS = [
    "History of {L}",
    "Geography around Mount {K}",
    "The {O}",
    "Economy and trade",
    "People of {L2}",
    "The {R} valley",
    "Culture and festivals",
    "Transport",
    "Science and learning",
    "Notable residents",
    "Climate",
    "Buildings of {L}",
]


class _Names:
    """Unique fictional names per document, so an answer string is never ambiguous."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _fresh(self, make) -> str:
        for _ in range(1000):
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value
        raise RuntimeError("name space exhausted")

    def person(self) -> str:
        r = self.rng
        return self._fresh(lambda: f"{r.choice(FIRST)} {r.choice(SURNAME_A)}{r.choice(SURNAME_B)}")

    def place(self) -> str:
        r = self.rng
        return self._fresh(lambda: f"{r.choice(PLACE_A)}{r.choice(PLACE_B)}")

    def org(self, place: str) -> str:
        return self._fresh(lambda: f"{place} {self.rng.choice(ORG_KIND)}")

    def title(self) -> str:
        r = self.rng
        return self._fresh(lambda: f"The {r.choice(TITLE_WORDS)} {r.choice(TITLE_WORDS)}")

    def year(self) -> str:
        return self._fresh(lambda: str(self.rng.randint(1620, 1990)))

    def date(self) -> str:
        r = self.rng
        return self._fresh(lambda: f"{r.randint(1, 28)} {r.choice(MONTHS)} {r.randint(1700, 1990)}")

    def number(self) -> str:
        r = self.rng
        return self._fresh(lambda: f"{r.randint(11, 98_000):,}")

    def money(self) -> str:
        return self._fresh(lambda: f"{self.rng.randint(120, 9_800):,},000")


def _fill_slots(template: str, slots: dict[str, str]) -> str:
    out = template
    for key in sorted(slots, key=len, reverse=True):
        out = out.replace("{" + key + "}", slots[key])
    return out


class _DocBuilder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names = _Names(rng)
        self.people = [self.names.person() for _ in range(12)]
        self.places = [self.names.place() for _ in range(8)]
        self.orgs = [self.names.org(rng.choice(self.places)) for _ in range(4)]
        self.rivers = [self.names.place() for _ in range(3)]
        self.mountains = [self.names.place() for _ in range(2)]

    def common_slots(self) -> dict[str, str]:
        r = self.rng
        p, p2 = r.sample(self.people, 2)
        l1, l2 = r.sample(self.places, 2)
        return {
            "P": p,
            "P2": p2,
            "L": l1,
            "L2": l2,
            "O": r.choice(self.orgs),
            "R": r.choice(self.rivers),
            "K": r.choice(self.mountains),
            "C": r.choice(TOPICS),
            "A": r.choice(ANIMALS),
        }

    def fact(self, template: str, questions: list[tuple[str, str]]):
        """A fact sentence and its questions; the answer slot gets a brand-new value."""
        slots = self.common_slots()
        fresh = {
            "Y": self.names.year,
            "D": self.names.date,
            "N": self.names.number,
            "M": self.names.money,
            "T": self.names.title,
            "S": self.names.title,
            "Z": lambda: self.rng.choice(PRIZES),
        }
        used = template + " ".join(q for q, _ in questions)
        for key, make in fresh.items():
            if "{" + key + "}" in used:  # draw only what the fact uses: names run out
                slots[key] = make()
        answers = {slot for _, slot in questions}
        # Names that are answers must be new to the document, or they would also show up
        # in filler sentences and the substring test would be meaningless.
        if "P" in answers:
            slots["P"] = self.names.person()
        if "L2" in answers:
            slots["L2"] = self.names.place()
        if "Z" in answers:
            slots["Z"] = self.names._fresh(
                lambda: f"{self.rng.choice(PRIZES)} {self.rng.choice(TITLE_WORDS)}"
            )
        if "S" in answers:
            slots["S"] = self.names._fresh(
                lambda: f"{self.rng.choice(TITLE_WORDS)} {self.rng.choice(TITLE_WORDS)}"
            )
        sentence = _fill_slots(template, slots)
        qa = [(_fill_slots(q, slots), slots[slot]) for q, slot in questions]
        return sentence, qa

    def filler(self, decoy_share: float = 0.2) -> str:
        if self.rng.random() >= decoy_share:
            return _fill_slots(self.rng.choice(FILLER), self.common_slots())
        template = self.rng.choice(DECOY_FILLER)
        slots = self.common_slots()
        fresh = {"Y0": self.names.year, "D0": self.names.date, "N0": self.names.number}
        fresh["P0"] = self.names.person
        for key, make in fresh.items():
            if "{" + key + "}" in template:  # fresh values: never an answer's string
                slots[key] = make()
        return _fill_slots(template, slots)


def templates(split: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Fact templates of a split: "test" holds out every TEST_EVERY-th, "dev" the rest,
    None all of them."""
    if split is None:
        return list(FACTS)
    test = split == "test"
    return [f for i, f in enumerate(FACTS) if (i % TEST_EVERY == TEST_EVERY - 1) == test]


def build_document(
    target_tokens: int, seed: int, fact_every: int = 700, split: str | None = None
) -> QADoc:
    """One document of about `target_tokens` tokens with a fact every ~`fact_every` tokens."""
    rng = random.Random(seed)
    b = _DocBuilder(rng)
    title = f"A Gazetteer of {rng.choice(b.places)}"
    facts = templates(split)
    rng.shuffle(facts)
    n_facts = max(2, target_tokens // fact_every)
    pending = [b.fact(t, q) for t, q in (facts * 3)[:n_facts]]
    parts = [f"# {title}"]
    qa: list[tuple[str, str]] = []
    tokens = count_tokens(title)
    sections = list(SECTIONS)
    rng.shuffle(sections)
    # Spread the facts over the sentences the document will roughly have (~18 tokens each).
    est_sentences = max(n_facts + 1, target_tokens // 18)
    fact_at = sorted(rng.sample(range(est_sentences), n_facts))
    sentence_no = 0
    while tokens < target_tokens or pending:
        if sentence_no == 0 or rng.random() < 0.08:
            heading = f"## {_fill_slots(sections[len(parts) % len(sections)], b.common_slots())}"
            parts.append(heading)
            tokens += count_tokens(heading)
        paragraph = []
        for _ in range(rng.randint(3, 7)):
            if pending and (sentence_no >= fact_at[0] or tokens >= target_tokens):
                fact_at.pop(0)
                sentence, pairs = pending.pop(0)
                qa.extend(pairs)
            else:
                sentence = b.filler()
            sentence_no += 1
            paragraph.append(sentence)
        text = " ".join(paragraph)
        parts.append(text)
        tokens += count_tokens(text)
    body = "\n\n".join(parts)
    # Keep only questions whose answer occurs once: a stray repeat would count as survival.
    questions = [(q, a) for q, a in qa if body.count(a) == 1]
    return QADoc(title, body, questions)


def build_qa_set(
    n_docs: int = 20,
    seed: int = 0,
    min_tokens: int = 3_000,
    max_tokens: int = 20_000,
    max_questions: int | None = None,
    split: str | None = None,
) -> list[QADoc]:
    """`n_docs` documents of min..max tokens (log-uniform), each with its questions;
    split "dev" / "test" uses only that split's fact templates (see templates())."""
    rng = random.Random(seed)
    docs = []
    for i in range(n_docs):
        size = int(min_tokens * (max_tokens / min_tokens) ** rng.random())
        doc = build_document(size, seed=seed * 100_003 + i, split=split)
        if max_questions is not None and len(doc.questions) > max_questions:
            doc.questions = random.Random(i).sample(doc.questions, max_questions)
        docs.append(doc)
    return docs
