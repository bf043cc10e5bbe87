"""One-off extraction of the PHI detector's name and city lexicons from the MIT-licensed Faker
package.

Run once, by hand, in a throw-away environment that has Faker installed::

    uv venv /tmp/fakervenv && uv pip install --python /tmp/fakervenv/bin/python faker
    /tmp/fakervenv/bin/python tests/phi/extract_lexicons.py

It rewrites ``policies/phi/data/{first_names,surnames,cities}.txt``. The runtime never imports
Faker: the detector only reads those committed text files. Provenance and licence are in
``policies/phi/data/SOURCE.md``.
"""

from __future__ import annotations

import importlib
import unicodedata
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "policies" / "phi" / "data"

FIRST_NAME_LOCALES = ("fr_FR", "fr_CH", "fr_CA", "en_US", "en_GB")
SURNAME_LOCALES = ("fr_FR", "fr_CH", "fr_CA", "en_US", "en_GB")

# Large French communes that are not prefectures (city names are facts, listed by hand) so that
# "domicilié à Villeurbanne" is recognised as well as "domicilié à Lyon".
EXTRA_COMMUNES = [
    "Aix-en-Provence",
    "Villeurbanne",
    "Boulogne-Billancourt",
    "Saint-Denis",
    "Argenteuil",
    "Montreuil",
    "Roubaix",
    "Tourcoing",
    "Nanterre",
    "Vitry-sur-Seine",
    "Créteil",
    "Avignon",
    "Dunkerque",
    "Aubervilliers",
    "Colombes",
    "Asnières-sur-Seine",
    "Courbevoie",
    "Rueil-Malmaison",
    "Saint-Maur-des-Fossés",
    "Champigny-sur-Marne",
    "Aulnay-sous-Bois",
    "Cannes",
    "Calais",
    "Antibes",
    "Drancy",
    "Mérignac",
    "Saint-Nazaire",
    "Colmar",
    "Issy-les-Moulineaux",
    "Noisy-le-Grand",
    "Vénissieux",
    "Cergy",
    "Levallois-Perret",
    "Pessac",
    "Ivry-sur-Seine",
    "Cholet",
    "Clichy",
    "Villeneuve-d'Ascq",
    "Antony",
    "Montauban",
    "Neuilly-sur-Seine",
    "Sarcelles",
    "Niort",
    "Le",
    "Havre",
    "Brest",
    "Reims",
    "Grenoble",
    "Dijon",
    "Angers",
    "Villejuif",
    "Saint-Quentin",
    "Beauvais",
    "Hyères",
    "Cherbourg-en-Cotentin",
    "Épinay-sur-Seine",
    "Lorient",
    "Pantin",
    "Fréjus",
    "Bayonne",
    "Sartrouville",
    "Maisons-Alfort",
    "Meaux",
    "Chelles",
    "Evry-Courcouronnes",
    "Fontenay-sous-Bois",
    "Narbonne",
    "Vannes",
    "Clamart",
    "Sète",
    "Arles",
    "Bondy",
    "Saint-Priest",
    "Corbeil-Essonnes",
    "Saint-Malo",
    "Bron",
    "Annemasse",
    "Vienne",
    "Martigues",
    "Aubagne",
    "Caluire-et-Cuire",
    "Istres",
    "Villepinte",
    "Saint-Herblain",
    "Rezé",
    "Talence",
    "Wattrelos",
    "Douai",
    "Saint-Chamond",
    "Montluçon",
    "Thionville",
    "Roanne",
    "Mulhouse",
    "Boulogne-sur-Mer",
    "Béziers",
    "Le",
    "Mans",
    "Toulon",
    "Lens",
    "Béthune",
    "Valenciennes",
    "Cambrai",
    "Maubeuge",
    "Dax",
    "Biarritz",
    "Anglet",
    "Bergerac",
    "Brive-la-Gaillarde",
    "Sens",
    "Compiègne",
    "Soissons",
    "Châtellerault",
    "Royan",
    "Saintes",
    "Cognac",
    "Vichy",
    "Montélimar",
    "Romans-sur-Isère",
    "Salon-de-Provence",
    "Draguignan",
    "Grasse",
    "Menton",
    "Orange",
    "Carpentras",
    "Alès",
    "Lunel",
    "Agde",
    "Millau",
    "Castres",
    "Albi",
    "Tarbes",
    "Lourdes",
    "Pau",
    "Auch",
    "Mont-de-Marsan",
    "Périgueux",
    "Villeneuve-sur-Lot",
    "Agen",
    "Libourne",
    "Arcachon",
    "Rochefort",
    "Les",
    "Sables-d'Olonne",
    "Saumur",
    "Laval",
    "Lannion",
    "Quimper",
    "Morlaix",
    "Dinan",
    "Fougères",
    "Vitré",
    "Redon",
    "Concarneau",
    "Douarnenez",
    "Granville",
    "Lisieux",
    "Bayeux",
    "Dieppe",
    "Fécamp",
    "Évreux",
    "Vernon",
    "Chartres",
    "Dreux",
    "Blois",
    "Vendôme",
    "Orléans",
    "Montargis",
    "Bourges",
    "Vierzon",
    "Nevers",
    "Auxerre",
    "Troyes",
    "Chaumont",
    "Épinal",
    "Nancy",
    "Metz",
    "Verdun",
    "Sedan",
    "Forbach",
    "Haguenau",
    "Saverne",
    "Sélestat",
    "Belfort",
    "Montbéliard",
    "Besançon",
    "Pontarlier",
    "Lons-le-Saunier",
    "Dole",
    "Mâcon",
    "Chalon-sur-Saône",
    "Annecy",
    "Chambéry",
    "Aix-les-Bains",
    "Thonon-les-Bains",
    "Albertville",
    "Voiron",
    "Valence",
    "Villefranche-sur-Saône",
]
# Two-word communes cannot survive the whitespace split above.
EXTRA_MULTIWORD_COMMUNES = (
    "Le Havre",
    "Le Mans",
    "Les Sables-d'Olonne",
    "La Rochelle",
    "Le Puy-en-Velay",
)


def _is_simple(name: str) -> bool:
    """One token of letters, hyphens or apostrophes: the only shape the detector looks up."""
    return bool(name) and all(ch.isalpha() or ch in "-'" for ch in name)


def _names(locales: tuple[str, ...], attribute: str) -> set[str]:
    found: set[str] = set()
    for locale in locales:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        values = getattr(provider, attribute, ())
        # Some providers keep weighted dicts (name -> frequency) rather than tuples.
        found.update(name.strip() for name in values)
    return {unicodedata.normalize("NFC", name) for name in found if _is_simple(name)}


def _cities() -> set[str]:
    ssn = importlib.import_module("faker.providers.ssn.fr_FR").Provider
    cities = {row[3] for row in ssn.departments_and_municipalities}
    cities.update(EXTRA_COMMUNES)
    cities.update(EXTRA_MULTIWORD_COMMUNES)
    # Drop the split halves of the multi-word names ("Le", "Havre", ...).
    cities -= {"Le", "Les", "La", "Havre", "Mans", "Sables-d'Olonne"}
    return {unicodedata.normalize("NFC", city) for city in cities}


def _write(name: str, values: set[str]) -> None:
    lines = sorted(values, key=lambda v: (v.casefold(), v))
    (DATA / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{name}: {len(lines)} entries")


def main() -> None:
    first = _names(FIRST_NAME_LOCALES, "first_names")
    first |= _names(FIRST_NAME_LOCALES, "first_names_male")
    first |= _names(FIRST_NAME_LOCALES, "first_names_female")
    _write("first_names.txt", first)
    _write("surnames.txt", _names(SURNAME_LOCALES, "last_names"))
    _write("cities.txt", _cities())


if __name__ == "__main__":
    main()
