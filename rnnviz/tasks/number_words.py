"""A toy translation: English number words to digits ("three hundred twelve" -> "312") or back."""
from __future__ import annotations

import numpy as np

from rnnviz.tasks.base import Param
from rnnviz.tasks.seq2seq import Pair, Seq2SeqTask

DIGITS = tuple("0123456789")
ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
WORDS = ONES + TENS[2:] + ("hundred", "thousand")
DIRECTIONS = ("words_to_digits", "digits_to_words")


def below_thousand(number: int) -> list[str]:
    """0 <= number < 1000 in words, without "and": 312 -> three hundred twelve, 40 -> forty."""
    words: list[str] = []
    hundreds, rest = divmod(number, 100)
    if hundreds:
        words += [ONES[hundreds], "hundred"]
    if rest >= 20:
        words.append(TENS[rest // 10])
        if rest % 10:
            words.append(ONES[rest % 10])
    elif rest or not words:
        words.append(ONES[rest])
    return words


def number_to_words(number: int) -> list[str]:
    """0 <= number < 1,000,000 in words: 1205 -> one thousand two hundred five."""
    thousands, rest = divmod(number, 1000)
    if not thousands:
        return below_thousand(rest)
    return below_thousand(thousands) + ["thousand"] + (below_thousand(rest) if rest else [])


def most_words(max_value: int) -> int:
    """The longest number_to_words(n) over 0 <= n <= max_value (at most ~2000 numbers are written)."""
    thousands, rest = divmod(max_value, 1000)
    if not thousands:
        return max(len(below_thousand(n)) for n in range(max_value + 1))
    lower_full = max(len(below_thousand(n)) for n in range(1000))  # any lower part under a smaller thousand
    lower_top = max(len(below_thousand(n)) for n in range(rest + 1))
    longest = max(lower_full, len(below_thousand(thousands)) + 1 + lower_top)
    if thousands > 1:  # a smaller thousand, with any lower part
        longest = max(longest, max(len(below_thousand(t)) for t in range(1, thousands)) + 1 + lower_full)
    return longest


class NumberWordsTask(Seq2SeqTask):
    """Numbers 0..max_value drawn uniformly; one side is their English words, the other their digits,
    then the end token. Words are tokens ("three", "hundred", "twelve"), digits are characters."""

    name = "number_words"
    title = "Number words: translate 'three hundred twelve' to '312' (encoder–decoder)"
    description = (
        "A toy translation between English number words and digits, either way. The two sides have "
        "different lengths and a different order of information: 'three hundred twelve' gives three "
        "tokens for three digits, 'forty' gives one token for two digits and 'one thousand five' one "
        "digit per word only at some places, so an encoder–decoder must read the whole phrase before "
        "it writes. Attention learns which words each digit comes from. Train it with `rnnviz train "
        "--arch seq2seq` or on the window's Encoder–decoder page."
    )
    params = (
        Param("direction", "words_to_digits", "which way to translate", kind="choice", choices=DIRECTIONS),
        Param("max_value", 999, "the largest number drawn (numbers are 0..max_value)", minimum=9, maximum=999_999),
    )

    @property
    def words_first(self) -> bool:
        return self.values["direction"] == "words_to_digits"

    @property
    def separator(self) -> str:  # type: ignore[override]
        return "" if self.words_first else " "

    def source_vocabulary(self) -> tuple[str, ...]:
        return WORDS if self.words_first else DIGITS

    def target_vocabulary(self) -> tuple[str, ...]:
        return DIGITS if self.words_first else WORDS

    def max_lengths(self) -> tuple[int, int]:
        words, digits = most_words(self.values["max_value"]), len(str(self.values["max_value"]))
        return (words, digits) if self.words_first else (digits, words)

    def _pairs(self, batch_size: int, rng: np.random.Generator) -> list[Pair]:
        numbers = rng.integers(0, self.values["max_value"] + 1, size=batch_size)
        pairs = []
        for number in numbers.tolist():
            words = [WORDS.index(w) for w in number_to_words(number)]
            digits = [int(d) for d in str(number)]
            pairs.append((words, digits) if self.words_first else (digits, words))
        return pairs
