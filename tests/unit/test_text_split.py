import pytest

from channels.text import WHATSAPP_TEXT_LIMIT, split_message


def _assert_valid(parts: list[str], limit: int) -> None:
    assert parts, "expected at least one part"
    for part in parts:
        assert part
        assert part == part.strip()
        assert len(part) <= limit


def test_short_text_is_one_stripped_part() -> None:
    assert split_message("  Hola, ¿en qué te ayudo?\n") == ["Hola, ¿en qué te ayudo?"]


def test_blank_text_gives_no_parts() -> None:
    assert split_message(" \n\t ") == []


def test_text_of_exactly_the_limit_is_not_split() -> None:
    text = "a" * WHATSAPP_TEXT_LIMIT
    assert split_message(text) == [text]


def test_one_over_the_limit_is_split() -> None:
    parts = split_message("word " * 1000)  # 5000 chars
    _assert_valid(parts, WHATSAPP_TEXT_LIMIT)
    assert len(parts) == 2


def test_paragraph_boundary_wins_over_sentences() -> None:
    first = "First paragraph. It has two sentences."
    second = "Second one is here. It goes on."
    assert split_message(f"{first}\n\n{second}", limit=50) == [first, second]


def test_long_text_splits_at_sentence_ends() -> None:
    sentences = [f"Sentence number {i} says something useful." for i in range(300)]
    parts = split_message(" ".join(sentences))
    _assert_valid(parts, WHATSAPP_TEXT_LIMIT)
    assert len(parts) > 1
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts).split() == " ".join(sentences).split()


def test_cjk_full_stops_split_without_spaces() -> None:
    text = "这是第一句。这是第二句。这是第三句。"
    assert split_message(text, limit=12) == ["这是第一句。这是第二句。", "这是第三句。"]


def test_arabic_question_mark_is_a_sentence_end() -> None:
    text = "هل يمكنني المساعدة؟ نعم بالتأكيد"
    assert split_message(text, limit=25) == ["هل يمكنني المساعدة؟", "نعم بالتأكيد"]


def test_whitespace_used_when_no_sentence_end_fits() -> None:
    parts = split_message("alpha beta gamma delta", limit=11)
    assert parts == ["alpha beta", "gamma delta"]


def test_single_huge_word_is_hard_cut() -> None:
    word = "x" * 10_000
    parts = split_message(word)
    _assert_valid(parts, WHATSAPP_TEXT_LIMIT)
    assert [len(p) for p in parts] == [4096, 4096, 1808]
    assert "".join(parts) == word


def test_hard_cut_keeps_zwj_emoji_whole() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 5 code points
    text = "a" * 8 + family
    parts = split_message(text, limit=10)
    assert parts == ["a" * 8, family]


@pytest.mark.parametrize("limit", [20, 50, 333, WHATSAPP_TEXT_LIMIT])
def test_parts_never_exceed_limit_and_keep_every_word(limit: int) -> None:
    words = [f"w{i}" + "z" * (i % 13) for i in range(3000)]
    text = ""
    for i, word in enumerate(words):
        text += word + ("! " if i % 7 == 0 else "\n\n" if i % 50 == 0 else " ")
    parts = split_message(text, limit=limit)
    _assert_valid(parts, limit)
    joined = " ".join(parts).replace("!", " ").split()
    assert joined == words


def test_rejects_nonpositive_limit() -> None:
    with pytest.raises(ValueError):
        split_message("hi", limit=0)
