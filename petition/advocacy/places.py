"""Where députés are elected: the départements and the other constituencies, and which of
them a French postal code lies in.

A postal code tells the département (its first two digits; 2A or 2B for Corsica's 20xxx; three
digits overseas), never the circonscription: several circonscriptions share most postal codes,
so the signer chooses theirs. Codes of the overseas collectivities follow La Poste, not INSEE:
Saint-Barthélemy (97133) and Saint-Martin (97150) are inside Guadeloupe's range.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext

# Area code → name, spelt as the Assemblée nationale's list spells it.
AREAS = {
    "01": "Ain", "02": "Aisne", "03": "Allier", "04": "Alpes-de-Haute-Provence",
    "05": "Hautes-Alpes", "06": "Alpes-Maritimes", "07": "Ardèche", "08": "Ardennes",
    "09": "Ariège", "10": "Aube", "11": "Aude", "12": "Aveyron", "13": "Bouches-du-Rhône",
    "14": "Calvados", "15": "Cantal", "16": "Charente", "17": "Charente-Maritime", "18": "Cher",
    "19": "Corrèze", "2A": "Corse-du-Sud", "2B": "Haute-Corse", "21": "Côte-d'Or",
    "22": "Côtes-d'Armor", "23": "Creuse", "24": "Dordogne", "25": "Doubs", "26": "Drôme",
    "27": "Eure", "28": "Eure-et-Loir", "29": "Finistère", "30": "Gard", "31": "Haute-Garonne",
    "32": "Gers", "33": "Gironde", "34": "Hérault", "35": "Ille-et-Vilaine", "36": "Indre",
    "37": "Indre-et-Loire", "38": "Isère", "39": "Jura", "40": "Landes", "41": "Loir-et-Cher",
    "42": "Loire", "43": "Haute-Loire", "44": "Loire-Atlantique", "45": "Loiret", "46": "Lot",
    "47": "Lot-et-Garonne", "48": "Lozère", "49": "Maine-et-Loire", "50": "Manche", "51": "Marne",
    "52": "Haute-Marne", "53": "Mayenne", "54": "Meurthe-et-Moselle", "55": "Meuse",
    "56": "Morbihan", "57": "Moselle", "58": "Nièvre", "59": "Nord", "60": "Oise", "61": "Orne",
    "62": "Pas-de-Calais", "63": "Puy-de-Dôme", "64": "Pyrénées-Atlantiques",
    "65": "Hautes-Pyrénées", "66": "Pyrénées-Orientales", "67": "Bas-Rhin", "68": "Haut-Rhin",
    "69": "Rhône", "70": "Haute-Saône", "71": "Saône-et-Loire", "72": "Sarthe", "73": "Savoie",
    "74": "Haute-Savoie", "75": "Paris", "76": "Seine-Maritime", "77": "Seine-et-Marne",
    "78": "Yvelines", "79": "Deux-Sèvres", "80": "Somme", "81": "Tarn", "82": "Tarn-et-Garonne",
    "83": "Var", "84": "Vaucluse", "85": "Vendée", "86": "Vienne", "87": "Haute-Vienne",
    "88": "Vosges", "89": "Yonne", "90": "Territoire de Belfort", "91": "Essonne",
    "92": "Hauts-de-Seine", "93": "Seine-Saint-Denis", "94": "Val-de-Marne", "95": "Val-d'Oise",
    "971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "Réunion", "976": "Mayotte",
    "975": "Saint-Pierre-et-Miquelon", "977": "Saint-Barthélemy et Saint-Martin",
    "986": "Wallis-et-Futuna", "987": "Polynésie française", "988": "Nouvelle-Calédonie",
    "99": "Français établis hors de France",
}  # fmt: skip
ABROAD = "99"
# Postal codes of one place inside another's range.
POSTAL_EXCEPTIONS = {"97133": "977", "97150": "977"}
# Areas no postal code starts with: reached through the exceptions above, or not at all.
NOT_POSTAL_PREFIXES = {"977", ABROAD}
FRENCH_POSTAL_CODE = re.compile(r"[0-9]{5}")


def _key(name: str) -> str:
    """A name as compared: without accents, case, apostrophe or hyphen variants."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[\s'\u2019\-]+", " ", plain).strip().casefold()


_BY_NAME = {_key(name): code for code, name in AREAS.items()}


def area_named(name: str) -> str | None:
    """The code of the area a published name stands for ("Polynésie Française" → "987")."""
    return _BY_NAME.get(_key(name))


def area_name(code: str) -> str:
    return AREAS.get(code, code)


def area_of_postal_code(postal_code: str) -> str | None:
    """The constituency area of a French postal code; None where it elects no député (Monaco)
    or the code is not one."""
    code = postal_code.strip()
    if not FRENCH_POSTAL_CODE.fullmatch(code):
        return None
    if code in POSTAL_EXCEPTIONS:
        return POSTAL_EXCEPTIONS[code]
    if code.startswith(("97", "98")):
        area = code[:3]
    elif code.startswith("20"):
        area = "2A" if code < "20200" else "2B"
    else:
        area = code[:2]
    return area if area in AREAS and area not in NOT_POSTAL_PREFIXES else None


def is_monaco(postal_code: str) -> bool:
    """Monaco's codes are in La Poste's range (980xx), but it elects no député."""
    code = postal_code.strip()
    return bool(FRENCH_POSTAL_CODE.fullmatch(code)) and code.startswith("980")


def ordinal(number: int) -> str:
    """The circonscription's name in the active language: "21st", "21e circonscription"."""
    if number == 1:
        return gettext("1st circonscription")
    values = {"number": number}
    if number % 10 == 1 and number % 100 != 11:
        return gettext("%(number)dst circonscription") % values
    if number % 10 == 2 and number % 100 != 12:
        return gettext("%(number)dnd circonscription") % values
    if number % 10 == 3 and number % 100 != 13:
        return gettext("%(number)drd circonscription") % values
    return gettext("%(number)dth circonscription") % values
