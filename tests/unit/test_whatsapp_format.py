import pytest

from channels.whatsapp_format import to_whatsapp

MARKDOWN = [
    # emphasis
    ("**Bold** and *italic*", "*Bold* and _italic_"),
    ("__Bold__ and _italic_", "*Bold* and _italic_"),
    ("***Both***", "*_Both_*"),
    ("~~old price~~ new price", "~old price~ new price"),
    ("Café **très** bien", "Café *très* bien"),
    ("**Note:** we close at 5.", "*Note:* we close at 5."),
    # headings
    ("# Opening hours", "*Opening hours*"),
    ("### Returns ###", "*Returns*"),
    ("## **Shipping** times", "*Shipping times*"),
    # links and images
    ("See [our shop](https://shop.example.com).", "See our shop (https://shop.example.com)."),
    ("[https://shop.example.com](https://shop.example.com)", "https://shop.example.com"),
    ("[www.shop.example.com](https://www.shop.example.com/)", "https://www.shop.example.com/"),
    ('[the guide](https://x.example/g "Guide")', "the guide (https://x.example/g)"),
    (
        "[wiki](https://en.wikipedia.org/wiki/Foo_(bar))",
        "wiki (https://en.wikipedia.org/wiki/Foo_(bar))",
    ),
    (
        "![red shoe](https://cdn.example.com/red_shoe_42.jpg)",
        "https://cdn.example.com/red_shoe_42.jpg",
    ),
    ("<https://shop.example.com/a_b>", "https://shop.example.com/a_b"),
    ("Call [+1 555 0100](tel:+15550100)", "Call +1 555 0100"),
    ("Call [our desk](tel:+15550100)", "Call our desk (+15550100)"),
    ("Write to [us](mailto:help@shop.example)", "Write to us (help@shop.example)"),
    ("Read the [FAQ](/faq)", "Read the FAQ"),
    # lists
    ("* one\n* two", "- one\n- two"),
    ("+ one\n+ two", "- one\n- two"),
    ("- one\n  * nested", "- one\n  - nested"),
    ("* **Size 42**: in stock", "- *Size 42*: in stock"),
    ("1. Choose\n2. Pay", "1. Choose\n2. Pay"),
    # tables
    (
        "| Size | Price |\n|------|------:|\n| 42 | €90 |\n| 43 | €95 |",
        "- Size: 42 · Price: €90\n- Size: 43 · Price: €95",
    ),
    ("Size | Stock\n--- | ---\n42 | yes", "- Size: 42 · Stock: yes"),
    ("| | Price |\n|---|---|\n| **A** | 1 |", "- *A* · Price: 1"),
    # code
    ("```python\nprint('a_b')\n```", "```print('a_b')```"),
    ("```\nline one\nline two\n```", "```line one\nline two```"),
    ("Use `ORDER_42` at checkout", "Use `ORDER_42` at checkout"),
    # the rest
    ("Intro\n\n---\n\nMore", "Intro\n\nMore"),
    ("a\n\n\n\nb", "a\n\nb"),
    ("Hi<br>there", "Hi\nthere"),
    ("line one  \r\nline two", "line one\nline two"),
    ("Total: 5 \\* 3", "Total: 5 * 3"),
]


@pytest.mark.parametrize(("markdown", "whatsapp"), MARKDOWN)
def test_markdown_becomes_whatsapp_formatting(markdown: str, whatsapp: str) -> None:
    assert to_whatsapp(markdown) == whatsapp


UNCHANGED = [
    "*Bold* and _italic_ and ~struck~",
    "Hello! How can I help you today?",
    "- one\n- two\n\n1. first\n2. second",
    "> a quote with *bold*",
    "```monospace``` and `code`",
    "Our sizes: *42* and *43*.",
    # URLs, e-mail addresses and phone numbers come out whole
    "https://shop.example.com/a_b_c?x=1*2&y=~z",
    "Visit https://x.example/~user/__init__.py.",
    "(see https://x.example/p)",
    "Mail john_doe_smith@shop.co.uk now",
    "Call +44 20 7946 0958 or +1 (555) 010-0199",
    "+ 44 20 7946 0958",
    # not emphasis in either format
    "my_file_name.pdf costs 2*3*4",
    "a ** b ** c",
    "5 * 3 = 15",
    "#1 best seller, #hashtag",
    "price | size, on one line",
    "",
]


@pytest.mark.parametrize("text", UNCHANGED)
def test_whatsapp_text_and_plain_text_stay_as_they_are(text: str) -> None:
    assert to_whatsapp(text) == text


def test_a_single_star_is_markdown_italic_only_beside_markdown_bold() -> None:
    assert to_whatsapp("*new* arrivals") == "*new* arrivals"  # WhatsApp bold
    assert to_whatsapp("**New** *arrivals*") == "*New* _arrivals_"


def test_a_heading_stays_bold_in_a_markdown_text() -> None:
    assert to_whatsapp("## Hours\n**Mon** to *Fri*") == "*Hours*\n*Mon* to _Fri_"


@pytest.mark.parametrize("text", [markdown for markdown, _ in MARKDOWN] + UNCHANGED)
def test_converting_twice_gives_what_converting_once_gave(text: str) -> None:
    once = to_whatsapp(text)
    assert to_whatsapp(once) == once


def test_a_typical_model_answer() -> None:
    answer = (
        "## Running shoes in size 42\n\n"
        "Here are **two options**:\n\n"
        "* **Trail X** - €90, [details](https://shop.example.com/p/trail_x)\n"
        "* **Road Y** - ~~€120~~ €99\n\n"
        "Questions? Call [+31 20 123 4567](tel:+31201234567)."
    )
    assert to_whatsapp(answer) == (
        "*Running shoes in size 42*\n\n"
        "Here are *two options*:\n\n"
        "- *Trail X* - €90, details (https://shop.example.com/p/trail_x)\n"
        "- *Road Y* - ~€120~ €99\n\n"
        "Questions? Call +31 20 123 4567."
    )
