"""Generate ``rhymes.txt``, the bundled corpus of the text task.

Where it came from: every word list and sentence template below was written for rnnviz by its
authors; nothing is copied from any book or other text. The output is reproducible (fixed seed):
    python resources/corpora/make_rhymes.py > resources/corpora/rhymes.txt

The verses are short rhyming couplets with a small vocabulary, regular spelling, punctuation and
line breaks, so a character-level model learns visibly within minutes: first spaces and common
letters, then whole words, then the shape of a line and the rhyme at its end.
"""
from __future__ import annotations

import random

# word families that rhyme: (noun, noun, ...) all ending in the same sound
RHYMES = [
    ("cat", "hat", "mat", "bat", "rat"),
    ("dog", "log", "frog", "fog", "bog"),
    ("bee", "tree", "sea", "key", "pea"),
    ("sun", "bun", "nun", "gun", "run"),
    ("star", "car", "jar", "bar", "tar"),
    ("moon", "spoon", "tune", "dune", "balloon"),
    ("bed", "shed", "head", "bread", "sled"),
    ("kite", "light", "night", "knight", "bite"),
    ("boat", "goat", "coat", "note", "moat"),
    ("cake", "lake", "snake", "rake", "drake"),
    ("hill", "mill", "pill", "sill", "quill"),
    ("fox", "box", "sox", "rocks", "clocks"),
    ("mouse", "house", "blouse", "grouse", "louse"),
    ("king", "ring", "string", "wing", "swing"),
]
ADJECTIVES = ["little", "old", "happy", "sleepy", "tiny", "big", "silly", "quiet", "brave", "lazy", "funny", "red"]
VERBS_PAST = ["sat", "slept", "danced", "sang", "hid", "played", "dreamed", "waited", "looked", "jumped"]
PREPOSITIONS = ["on", "by", "near", "under", "behind", "beside", "over", "in"]
OPENERS = ["one day", "at night", "in the morning", "once upon a time", "at noon", "after tea", "in spring"]
NAMES = ["Tom", "Anna", "Ben", "Mia", "Sam", "Lucy", "Max", "Ella"]

TEMPLATES = [
    "the {adj} {n1} {verb} {prep} the {r1},\nand {name} {verb2} {prep2} the {r2}.",
    "{opener} a {n1} {verb} {prep} a {r1};\n{opener2} a {n2} {verb2} {prep2} a {r2}.",
    "{name} saw a {adj} {r1}\nand gave it to the {adj2} {r2}.",
    "oh {adj} {n1}, where is your {r1}?\nit is {prep} the {adj2} {r2}!",
    "the {r1} and the {r2}\n{verb} {prep} the {n1} and {verb2} with the {n2}.",
    "{name} has a {adj} {r1},\n{name2} has a {adj2} {r2}.",
]


def verse(rng: random.Random) -> str:
    family = rng.choice(RHYMES)
    r1, r2 = rng.sample(family, 2)
    other = rng.choice([f for f in RHYMES if f is not family])
    n1, n2 = rng.sample(other, 2)
    verb, verb2 = rng.sample(VERBS_PAST, 2)
    prep, prep2 = rng.sample(PREPOSITIONS, 2)
    adj, adj2 = rng.sample(ADJECTIVES, 2)
    name, name2 = rng.sample(NAMES, 2)
    opener, opener2 = rng.sample(OPENERS, 2)
    text = rng.choice(TEMPLATES).format(
        adj=adj, adj2=adj2, n1=n1, n2=n2, r1=r1, r2=r2, verb=verb, verb2=verb2,
        prep=prep, prep2=prep2, name=name, name2=name2, opener=opener, opener2=opener2,
    )
    return text[0].upper() + text[1:]


def corpus(verses: int = 1800, seed: int = 1997) -> str:
    rng = random.Random(seed)
    return "\n\n".join(verse(rng) for _ in range(verses)) + "\n"


if __name__ == "__main__":
    print(corpus(), end="")
