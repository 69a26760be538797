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
