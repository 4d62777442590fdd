"""French typography of the texts staff write: no-break spaces where French puts them,
« » for unambiguous quotes, and nothing else touched, in French only. And soft hyphens in the
long words of titles, in either language, so that a narrow screen breaks them with a hyphen."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import SafeData, mark_safe

from petition.templatetags.typography import french, hyphenate, typeset

NBSP = "\u00a0"
NARROW = "\u202f"
SHY = "\u00ad"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP à la cyberpédocriminalité !", f"STOP à la cyberpédocriminalité{NARROW}!"),
        ("Pourquoi ? Parce que ; voilà", f"Pourquoi{NARROW}? Parce que{NARROW}; voilà"),
        ("4 propositions concrètes :", f"4 propositions concrètes{NBSP}:"),
        ("Signez!", f"Signez{NARROW}!"),
        ("Vraiment?!", f"Vraiment{NARROW}?!"),
        ("Contacts: Laurence", f"Contacts{NBSP}: Laurence"),
        ("** : loi du 30 juillet", f"**{NBSP}: loi du 30 juillet"),
        ("(vraiment!)", f"(vraiment{NARROW}!)"),
        (f"déjà{NBSP}!", f"déjà{NARROW}!"),
        (f"déjà{NARROW}:", f"déjà{NBSP}:"),
        ("«Bonjour»", f"«{NBSP}Bonjour{NBSP}»"),
        ("«  Bonjour   »", f"«{NBSP}Bonjour{NBSP}»"),
        ('le thème "Garantir un monde sûr".', f"le thème «{NBSP}Garantir un monde sûr{NBSP}»."),
        ("le thème “Garantir” !", f"le thème «{NBSP}Garantir{NBSP}»{NARROW}!"),
    ],
)
def test_french_text_gets_its_no_break_spaces_and_guillemets(text, expected):
    assert french(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://www.cameleon-association.org/le-partage/?a=1;b=2",
        "voir www.cnil.fr!",
        "mailto:contact@example.org?subject=Oui!",
        "rendez-vous à 18:30",
        "de 9:00:00 à 12:15",
        "un ratio 1:2",
        "a:b et c;d",
        '<a href="https://example.org/?q=1;2">lien</a>',
        "&amp;",
        "un seul “guillemet",
        'un " seul',
        'trois " guillemets " droits "',
        "",
    ],
)
def test_french_leaves_addresses_times_html_and_doubtful_quotes_alone(text):
    assert french(text) == text


def test_address_followed_by_a_mark_keeps_the_address_and_spaces_the_mark():
    text = "nos actions : https://www.cameleon-association.org/ !"

    assert french(text) == (f"nos actions{NBSP}: https://www.cameleon-association.org/{NARROW}!")


def test_typesetting_twice_changes_nothing_more():
    text = 'Un " test " : «oui» ! Vraiment? "Oui"'

    once = french(text)

    assert french(once) == once


def test_english_text_is_left_as_it_is():
    text = 'STOP online child sexual exploitation! "Quoted": yes; fine?'

    assert typeset(text, "en") == text


def test_the_filter_follows_the_active_language():
    template = Template("{% load typography %}{{ text|typeset }}")
    context = Context({"text": "Signez !"})

    with translation.override("fr"):
        assert template.render(context) == f"Signez{NARROW}!"
    with translation.override("en"):
        assert template.render(context) == "Signez !"


def test_escaping_stays_right_before_urlize_and_linebreaks():
    template = Template("{% load typography %}{{ text|typeset|urlize|linebreaks }}")
    text = (
        'Il dit "<script>alert(1)</script>" : voir https://example.org/a?b=1&c=2 !\n\nFin & suite ?'
    )

    with translation.override("fr"):
        rendered = template.render(Context({"text": text}))

    assert "<script>" not in rendered
    assert f"«{NBSP}&lt;script&gt;alert(1)&lt;/script&gt;{NBSP}»{NBSP}:" in rendered
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow">'
        "https://example.org/a?b=1&amp;c=2</a>" + NARROW + "!"
    ) in rendered
    assert f"<p>Fin &amp; suite{NARROW}?</p>" in rendered


def test_safe_html_is_typeset_between_its_tags_and_stays_safe():
    markup = mark_safe(
        '<p>Il dit &quot;oui&quot; : <a href="https://x.org/?a=1&amp;b=2">lien !</a></p>'
    )

    with translation.override("fr"):
        result = typeset(markup)

    assert isinstance(result, SafeData)
    assert result == (
        f'<p>Il dit «{NBSP}oui{NBSP}»{NBSP}: <a href="https://x.org/?a=1&amp;b=2">lien{NARROW}!</a></p>'
    )


def test_nothing_is_made_of_an_empty_or_missing_text():
    template = Template("{% load typography %}[{{ missing|typeset }}]")

    with translation.override("fr"):
        assert template.render(Context({})) == "[]"


def test_long_words_of_a_french_title_get_soft_hyphens_between_their_syllables():
    title = f"STOP à la cyberpédocriminalité{NARROW}!"

    hyphenated = hyphenate(title, "fr")

    assert hyphenated.replace(SHY, "") == title
    assert hyphenated.startswith("STOP à la cy")  # short words are left whole
    syllables = hyphenated.removeprefix("STOP à la ").split(SHY)
    assert len(syllables) >= 5
    assert syllables[0] == "cy"
    # Never fewer than three letters after the last break.
    assert len(syllables[-1].removesuffix(f"{NARROW}!")) >= 3


def test_english_titles_are_hyphenated_with_the_english_dictionary():
    title = "STOP online child sexual exploitation!"

    assert hyphenate(title, "en") == title  # no word long enough to need it
    assert SHY in hyphenate("Internationalisation", "en")


def test_a_language_without_a_dictionary_is_left_as_it_is():
    assert hyphenate("cyberpédocriminalité", "xx") == "cyberpédocriminalité"


def test_safe_html_is_hyphenated_between_its_tags_and_stays_safe():
    link = '<a href="https://x.org/cyberpedocriminalite">'
    markup = mark_safe(
        '<a href="https://x.org/cyberpedocriminalite">cyberpédocriminalité</a> &amp; co'
    )

    result = hyphenate(markup, "fr")

    assert isinstance(result, SafeData)
    assert result.startswith(f"{link}cy{SHY}")
    assert result.endswith("</a> &amp; co")
    assert result.replace(SHY, "") == markup


def test_the_hyphenate_filter_follows_the_active_language_and_escapes_as_usual():
    template = Template("{% load typography %}{{ text|typeset|hyphenate }}")
    context = Context({"text": "Désinstitutionnalisation & co !"})

    with translation.override("fr"):
        rendered = template.render(context)

    assert SHY in rendered
    assert rendered.replace(SHY, "") == f"Désinstitutionnalisation &amp; co{NARROW}!"
