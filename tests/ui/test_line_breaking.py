"""Chinese line breaking (kinsoku) as a pure function of text, width and a measure: the rules, and properties over
any text: the text is kept, no line starts with closing or ends with opening punctuation, lines fit the width."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ui.line_breaking import CLOSING, OPENING, break_lines, may_break, wrap_text


def cells(text: str) -> float:
    """A monospace measure: a CJK character is two cells wide, anything else one (as in a terminal)."""
    return float(sum(2 if ord(ch) > 0x2E7F else 1 for ch in text))


def test_a_comma_never_starts_a_line_the_character_before_it_goes_down_with_it() -> None:
    text = "本中心位于社区服务大楼一层，全天开放"
    lines = break_lines(text, 26, cells)  # 13 ideographs fit; the 14th, "，", must not start the next line
    assert lines == ["本中心位于社区服务大楼一", "层，全天开放"]


def test_an_opening_bracket_never_ends_a_line() -> None:
    lines = break_lines("推荐阅读《红楼梦》和《西游记》", 12, cells)
    assert all(not line.endswith(("《", "（")) for line in lines), lines
    assert all(not line.startswith(("》", "，")) for line in lines[1:]), lines
    assert "".join(lines) == "推荐阅读《红楼梦》和《西游记》"


def test_latin_runs_and_numbers_break_only_at_spaces() -> None:
    text = "距离约 0.8 km，开放时间 9:00-21:00"
    lines = break_lines(text, 16, cells)
    assert "".join(lines) == text
    assert any("9:00-21:00" in line for line in lines)
    assert not any(line.rstrip().endswith("0.") for line in lines)


def test_english_breaks_at_spaces_and_a_too_long_word_at_any_letter() -> None:
    assert break_lines("Open around the clock", 10, cells) == ["Open ", "around the ", "clock"]
    assert break_lines("https://example.org/x", 8, cells) == ["https://", "example.", "org/x"]


def test_doubled_dash_and_ellipsis_stay_together() -> None:
    assert not may_break("好——书", 2)
    assert not may_break("好……", 2)
    assert not may_break("好……", 1)  # an ellipsis never starts a line


def test_wrap_text_drops_the_space_at_a_break_and_keeps_paragraphs() -> None:
    assert wrap_text("Open around\n全天开放，欢迎", 8, cells) == "Open\naround\n全天开\n放，欢迎"


def test_no_break_spaces_glue_what_they_join() -> None:
    text = "玄武区党群服务中心\u00a0\u00a0·  约\u00a03.2\u00a0公里\u00a0\u00a0·  9:00–21:00"
    for width in range(8, 60):
        lines = break_lines(text, width, cells)
        assert all(not line.startswith(("\u00a0", "·")) for line in lines[1:]), lines
        assert all("约\u00a03.2\u00a0公里" in line for line in lines if "公里" in line), lines


def test_a_date_stays_on_one_line() -> None:
    """The receipt in elder mode broke "应还 2026年12月 / 22日" and "due 22 Dec / 2026"."""
    for text, date in (("借出  平凡的世界（全三册）  应还 2026年12月22日", "2026年12月22日"),
                       ("请于2026年12月22日前归还", "2026年12月22日"),
                       ("Borrowed  The Three-Body Problem  due 22 Dec 2026", "22 Dec 2026"),
                       ("Due back by Dec 22, 2026 at the latest", "Dec 22, 2026")):
        start = text.index(date)
        assert not any(may_break(text, i) for i in range(start + 1, start + len(date))), text
        for width in range(int(cells(date)), 80):
            assert sum(date in line for line in break_lines(text, width, cells)) == 1, (width, text)
    # Wider than the whole line, a date still breaks rather than running off the screen.
    assert len(break_lines("2026年12月22日", 8, cells)) > 1
    assert len(break_lines("22 Dec 2026", 4, cells)) > 1


def test_the_due_word_is_never_split() -> None:
    """The portrait receipt in elder mode ended a line in "应" and began the next with "还 2026年12月22日"."""
    text = "借出  习近平新时代中国特色社会主义思想学习纲要  应还 2026年12月22日"
    start = text.index("应还")
    assert not may_break(text, start + 1)
    for width in range(8, 80):
        lines = break_lines(text, width, cells)
        assert not any(line.rstrip().endswith("应") for line in lines), (width, lines)
        assert not any(line.startswith("出") for line in lines), (width, lines)


def test_a_due_date_stays_with_its_word() -> None:
    """The receipt in large text read "…学习纲要  应还" / "2026年12月22日": a date alone on its line looked like an
    entry of its own. "应还 <date>" and "due <date>" move down whole where the line has no room for them."""
    for text, due in (("借出  习近平新时代中国特色社会主义思想学习纲要  应还 2026年12月22日",
                       "应还 2026年12月22日"),
                      ("Borrowed  Outline for Studying Xi Jinping Thought  due 22 Dec 2026", "due 22 Dec 2026")):
        start = text.index(due)
        assert not any(may_break(text, i) for i in range(start + 1, start + len(due))), text
        for width in range(int(cells(due)), 90):
            assert sum(due in line for line in break_lines(text, width, cells)) == 1, (width, text)


def test_the_words_of_our_prompts_are_not_split() -> None:
    """Large text in portrait broke the refusal's advice as "请扫" / "描书背面的条码"."""
    text = "没有找到这本书，请扫描书背面的条码，或请馆员帮忙"
    for word in ("扫描", "条码", "馆员", "背面"):
        start = text.index(word)
        assert not any(may_break(text, i) for i in range(start + 1, start + len(word))), word
    for width in range(6, 60):
        lines = break_lines(text, width, cells)
        assert not any(line.endswith(("扫", "条", "馆", "背")) for line in lines[:-1]), (width, lines)
    # A masked name is one word too: the consent text in large text read "（如 张" / "*）。".
    consent = "只保存遮挡后的姓名（如 张*）。读者 张*华 借出"
    for name in ("张*", "张*华"):
        start = consent.index(name + ("）" if name == "张*" else ""))
        assert not any(may_break(consent, i) for i in range(start + 1, start + len(name))), name


def test_no_ideograph_is_left_alone_at_either_end_of_a_run() -> None:
    """The English receipt in elder mode, portrait, ended a title "…学习纲" and began the next line "要  due"."""
    text = "Borrowed  习近平新时代中国特色社会主义思想学习纲要  due 22 Dec 2026  Returned  三体"
    assert not may_break(text, text.index("要"))
    assert not may_break(text, text.index("近"))  # "习" alone at the end of a line
    assert not may_break(text, text.index("体"))
    assert may_break(text, text.index("纲"))
    for width in range(12, 90):
        lines = [line.strip(" ") for line in break_lines(text, width, cells)]
        assert not any(line.startswith(("要", "体")) or line.endswith(("Borrowed  习", "Returned  三"))
                       or line in ("习", "三") for line in lines), (width, lines)


def test_a_paragraph_does_not_end_in_one_character_on_its_own_line() -> None:
    text = "本中心位于社区服务大楼一层，全天开放，欢迎"
    for width in range(6, 44):
        lines = break_lines(text, width, cells)
        assert lines[-1] != "迎" and not lines[-1].startswith("迎"), (width, lines)
    assert may_break("楼一层，全天", 2)  # punctuation inside a run: "层，" may start a line, the run goes on
    assert may_break("作者或ISBN", 2)  # "或ISBN" is glued to its Latin neighbour: not alone
    hint = "Type pinyin initials on the keys (HLM finds 红楼梦), or a title"
    assert not may_break(hint, hint.index("梦"))  # ASCII punctuation, then English: "梦" would be alone
    assert may_break("姓名（如 张*）", 2)  # after the space the text goes on in Chinese: "如" is not alone


def test_a_number_keeps_its_unit_and_a_short_title_its_marks() -> None:
    """Found in the screenshots: "（已借 5/5" / "本）", "(5 of" / "5 books)", "《红楼" / "梦》"."""
    zh = "借书成功：《平凡的世界》，请于2026年12月22日前归还（已借 5/5 本）"
    en = "Borrowed: \"Ordinary World\". Please return by 22 Dec 2026 (5 of 5 books)."
    prompt = "在键盘上输入拼音首字母（如 HLM 找《红楼梦》）、书名、作者或ISBN"
    for width in range(16, 70):
        for text, whole in ((zh, "5/5 本"), (en, "5 of 5 books"), (prompt, "《红楼梦》"), (zh, "《平凡的世界》")):
            lines = break_lines(text, width, cells)
            assert sum(whole in line for line in lines) == 1, (width, lines)


def test_a_name_between_separators_is_not_split_to_one_character() -> None:
    text = "鲁迅\u00a0\u00a0·  文化艺术\u00a0\u00a0·  播音：王芳\u00a0\u00a0·  56\u00a0分钟"
    assert not may_break(text, text.index("芳"))
    assert not may_break(text, text.index("音"))  # "播" alone at the end of a line
    for width in range(12, 60):
        assert not any(line.startswith("芳") for line in break_lines(text, width, cells))


def test_a_line_of_only_closing_punctuation_overflows_rather_than_breaking_the_rule() -> None:
    assert break_lines("好，，，，，，", 4, cells) == ["好，，，，，，"]


TEXT = st.text(alphabet=st.sampled_from(sorted(
    set("中文图书馆开放时间全天阅读红楼梦西游记社区服务大楼一层年月日") | set("abc XYZ 09.:-/,") | set("Dec")
    | CLOSING | OPENING
    | set("—…\u00a0"))), max_size=80)


@settings(max_examples=400, deadline=None)
@given(text=TEXT, width=st.integers(min_value=4, max_value=40))
def test_any_text_keeps_the_rules_and_its_characters(text: str, width: int) -> None:
    lines = break_lines(text, width, cells)
    assert "".join(lines) == text
    for n, line in enumerate(lines):
        if n > 0:
            assert line and line[0] not in CLOSING and line[0] != " ", lines
        if n < len(lines) - 1:
            assert line.rstrip(" ") and line.rstrip(" ")[-1] not in OPENING, lines
        if cells(line.rstrip(" ")) > width:
            # Only a piece with no allowed break inside may overflow, and it is alone on its line.
            assert not any(may_break(line, i, anywhere=True) for i in range(1, len(line.rstrip(" ")))), lines


@settings(max_examples=300, deadline=None)
@given(text=TEXT, width=st.integers(min_value=4, max_value=40))
def test_lines_are_as_full_as_the_rules_allow(text: str, width: int) -> None:
    """Greedy: each line, with the following text up to its next allowed break, would not have fitted."""
    lines = break_lines(text, width, cells)
    start = 0
    for line in lines[:-1]:
        end = start + len(line)
        following = next((i for i in range(end + 1, len(text)) if may_break(text, i)), len(text))
        assert cells(text[start:following].rstrip(" ")) > width, (lines, line)
        start = end


def test_a_wrap_label_draws_the_lines_the_rules_chose(kiosk_ui: Any) -> None:
    """On the real app's font: at a width where 13 ideographs fit, Kivy alone would start line two with "，"."""
    from ui.widgets import WrapLabel

    text = "本中心位于社区服务大楼一层，全天开放，欢迎（含节假日）借阅《红楼梦》等图书。"
    label = WrapLabel(text=text, size_hint_x=None)
    kiosk_ui.app.root.add_widget(label)
    try:
        label._label.resolve_font_name()
        label.width = label._label.get_extents("本中心位于社区服务大楼一层")[0] + 2
        kiosk_ui.settle()
        lines = drawn(label)
        assert label.text == text  # what the screen set; only the drawing has our breaks
        assert "".join(lines) == text
        assert len(lines) >= 3 and lines[0] == "本中心位于社区服务大楼一"
        assert all(line[0] not in CLOSING for line in lines[1:]), lines
        assert all(line[-1] not in OPENING for line in lines[:-1]), lines
        assert max(w for w in line_widths(label)) <= label.width
    finally:
        kiosk_ui.app.root.remove_widget(label)


def drawn(label: Any) -> list[str]:
    label.texture_update()
    return ["".join(word.text for word in line.words).strip() for line in label._label._cached_lines]


def line_widths(label: Any) -> list[int]:
    return [line.w for line in label._label._cached_lines]
