"""Seeded English sentences from a small hand-written grammar, for synthetic training corpora.

Why not real text: no sentence corpus ships inside the packages we depend on, nothing may be
downloaded at run time, and the prompt sets' texts are evaluation data that must not leak into
training. The grammar covers common English phones in varied contexts (plural and past-tense
endings, questions, numbers, names), which is what a small TTS model needs to learn alignment.
`sentences(n, seed)` is a pure function of its arguments.
"""

from __future__ import annotations

import random

NAMES = ("Anna", "Peter", "Maria", "John", "Lucy", "Thomas", "Grace", "Oliver", "Helen", "David", "Sophie",
         "Martin", "Emily", "George", "Clara", "Henry")
NOUNS = ("dog", "cat", "horse", "bird", "river", "garden", "window", "table", "letter", "teacher", "farmer",
         "doctor", "village", "mountain", "road", "boat", "kitchen", "market", "lamp", "chair", "forest",
         "bridge", "student", "song", "basket", "flower", "shadow", "engine", "island", "ladder", "rabbit",
         "candle", "picture", "pocket", "hammer", "button", "castle", "sister", "brother", "neighbour",
         "wagon", "rock", "cloud", "bottle", "pencil", "jacket", "kettle", "meadow", "tower", "drum")
ADJECTIVES = ("old", "young", "small", "large", "quiet", "bright", "dark", "warm", "cold", "heavy", "gentle",
              "yellow", "green", "broken", "empty", "famous", "careful", "strange", "golden", "narrow",
              "sleepy", "busy", "clever", "silver", "rough", "smooth", "tiny", "friendly", "hungry", "distant")
VERBS_PAST = ("found", "carried", "watched", "painted", "followed", "opened", "cleaned", "visited", "pushed",
              "lifted", "counted", "noticed", "borrowed", "repaired", "described", "remembered", "dropped",
              "washed", "brought", "heard", "saw", "kept", "bought", "left", "chased", "touched", "showed")
VERBS_BASE = ("find", "carry", "watch", "paint", "follow", "open", "clean", "visit", "push", "lift", "count",
              "notice", "borrow", "repair", "describe", "remember", "wash", "bring", "hear", "see", "keep")
PREPOSITIONS = ("near", "behind", "under", "beside", "across", "inside", "above", "along", "toward", "past")
ADVERBS = ("slowly", "quickly", "carefully", "quietly", "again", "yesterday", "early", "later", "at last",
           "every morning", "in the evening", "without a word")
NUMBERS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
           "twenty", "forty", "a hundred")
TIMES = ("on monday", "in the spring", "after dinner", "before the rain", "last winter", "at noon",
         "in the morning", "during the storm", "on the way home")


def _np(rng: random.Random) -> str:
    """A noun phrase: 'the old dog', 'an empty window', 'anna'."""
    if rng.random() < 0.2:
        return rng.choice(NAMES)
    det = rng.choice(("the", "the", "a", "her", "his", "our", "that"))
    words = ([rng.choice(ADJECTIVES)] if rng.random() < 0.6 else []) + [rng.choice(NOUNS)]
    if det == "a" and words[0][0] in "aeiou":
        det = "an"
    return " ".join([det, *words])


def _plural(rng: random.Random) -> str:
    noun = rng.choice(NOUNS)
    noun = noun[:-1] + "ies" if noun.endswith("y") and noun[-2] not in "aeiou" else noun + "s"
    adj = rng.choice(ADJECTIVES) + " " if rng.random() < 0.5 else ""
    return f"{rng.choice(NUMBERS)} {adj}{noun}"


def sentence(rng: random.Random) -> str:
    """One sentence, capitalised and punctuated."""
    form = rng.randrange(6)
    if form == 0:
        s = f"{_np(rng)} {rng.choice(VERBS_PAST)} {_np(rng)} {rng.choice(PREPOSITIONS)} {_np(rng)}."
    elif form == 1:
        s = f"{_np(rng)} {rng.choice(VERBS_PAST)} {_plural(rng)} {rng.choice(ADVERBS)}."
    elif form == 2:
        s = f"did {_np(rng)} {rng.choice(VERBS_BASE)} {_np(rng)} {rng.choice(TIMES)}?"
    elif form == 3:
        s = f"{rng.choice(TIMES)}, {_np(rng)} {rng.choice(VERBS_PAST)} {_np(rng)}, and {_np(rng)} " \
            f"{rng.choice(VERBS_PAST)} {_plural(rng)}."
    elif form == 4:
        s = f"{rng.choice(NAMES)} said that {_np(rng)} was {rng.choice(ADJECTIVES)} and " \
            f"{rng.choice(ADJECTIVES)}."
    else:
        s = f"why would {_np(rng)} {rng.choice(VERBS_BASE)} {_plural(rng)} {rng.choice(PREPOSITIONS)} {_np(rng)}?"
    return s[0].upper() + s[1:]


def sentences(n: int, seed: int = 0) -> list[str]:
    """`n` sentences, the same for the same (n, seed); a prefix of a longer list with the same seed."""
    rng = random.Random(seed)
    return [sentence(rng) for _ in range(n)]


# ---- everyday sentences: coherent, common words (what a small ASR's language model expects) ---------
# Each template's slots are filled from lists that fit it, so every sentence makes sense; function
# words and common content words dominate, as in ordinary speech. Not a corpus: a grammar whose
# word frequencies look natural (the, to, a, I, you, we ... first), unlike the nonsense grammar above.
PEOPLE = ("my mother", "my father", "my sister", "my brother", "our teacher", "the doctor", "the driver",
          "my friend", "the old man", "the young woman", "our neighbour", "the children", "my uncle",
          "the manager", "her husband", "his wife")
PLACES = ("the station", "the library", "the market", "the park", "the office", "the beach", "the hospital",
          "the school", "the bank", "the airport", "the museum", "the post office", "the bakery", "the church")
WHEN = ("this morning", "last night", "on Monday", "after lunch", "next week", "every day", "before dinner",
        "on Sunday afternoon", "at the weekend", "tomorrow morning", "two days ago", "later today")
FOODS = ("bread", "coffee", "tea", "rice", "soup", "cheese", "apples", "eggs", "milk", "fish", "potatoes",
         "chicken", "oranges", "butter")
THINGS = ("the door", "the window", "the box", "the book", "the letter", "the bag", "the car", "the radio",
          "the light", "the gate", "the drawer", "the computer")
OPEN_VERBS = ("open", "close", "check", "clean", "carry", "move", "fix", "find")
FEELINGS = ("happy", "tired", "hungry", "busy", "worried", "surprised", "ready", "late", "sorry", "glad")
WEATHER = ("cold", "warm", "windy", "sunny", "cloudy", "wet", "quiet", "bright")
COLORS = ("red", "blue", "green", "black", "white", "yellow", "brown", "pink")
COUNTS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty")
ANIMALS = ("dogs", "cats", "birds", "horses", "cows", "sheep", "ducks", "rabbits")
ACTIVITIES = ("go for a walk", "watch a film", "read the paper", "visit your parents", "call the doctor",
              "finish the work", "cook dinner", "write a letter", "take the train", "play football")
TRANSPORT = ("bus", "train", "car", "bike", "boat")

_EVERYDAY = (
    lambda r: f"{r.choice(PEOPLE)} went to {r.choice(PLACES)} {r.choice(WHEN)}.",
    lambda r: f"Could you {r.choice(OPEN_VERBS)} {r.choice(THINGS)}, please?",
    lambda r: f"We will meet at {r.choice(PLACES)} {r.choice(WHEN)}.",
    lambda r: f"I think we should {r.choice(ACTIVITIES)} {r.choice(WHEN)}.",
    lambda r: f"The weather was {r.choice(WEATHER)} {r.choice(WHEN)}, so we stayed at home.",
    lambda r: f"There are {r.choice(COUNTS)} {r.choice(ANIMALS)} in the field behind the house.",
    lambda r: f"{r.choice(PEOPLE)} bought some {r.choice(FOODS)} and some {r.choice(FOODS)}.",
    lambda r: f"I was very {r.choice(FEELINGS)} when I got home {r.choice(WHEN)}.",
    lambda r: f"Do you know where {r.choice(THINGS)} is?",
    lambda r: f"She left the {r.choice(COLORS)} bag at {r.choice(PLACES)}.",
    lambda r: f"He takes the {r.choice(TRANSPORT)} to work {r.choice(WHEN)}.",
    lambda r: f"We need to {r.choice(OPEN_VERBS)} {r.choice(THINGS)} before we leave.",
    lambda r: f"{r.choice(PEOPLE)} said that {r.choice(THINGS)} was broken.",
    lambda r: f"Would you like some {r.choice(FOODS)} with your {r.choice(FOODS)}?",
    lambda r: f"The {r.choice(TRANSPORT)} was full {r.choice(WHEN)}.",
    lambda r: f"Please don't forget to {r.choice(ACTIVITIES)} {r.choice(WHEN)}.",
    lambda r: f"It takes about {r.choice(COUNTS)} minutes to walk to {r.choice(PLACES)}.",
    lambda r: f"{r.choice(PEOPLE)} is {r.choice(FEELINGS)} because the {r.choice(TRANSPORT)} was late.",
    lambda r: f"I have not seen {r.choice(PEOPLE)} since {r.choice(WHEN)}.",
    lambda r: f"Why don't we {r.choice(ACTIVITIES)} {r.choice(WHEN)}?",
)


def everyday_sentence(rng: random.Random) -> str:
    s = rng.choice(_EVERYDAY)(rng)
    return s[0].upper() + s[1:]


def everyday_sentences(n: int, seed: int = 0, *, distinct: bool = True) -> list[str]:
    """`n` coherent everyday sentences (distinct unless `distinct=False`), a pure function of (n, seed)."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    for _ in range(n * 50):
        s = everyday_sentence(rng)
        if distinct and s in seen:
            continue
        seen.add(s)
        out.append(s)
        if len(out) == n:
            return out
    raise ValueError(f"the everyday grammar gave only {len(out)} distinct sentences of {n} asked")
