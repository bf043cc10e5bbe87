"""Clinical text that carries no identifier: drugs, lab values, codes, lots, eponyms, contacts.

Every function returns plain text; nothing here is ever labelled. Much of it looks like an
identifier (lot numbers shaped like phone numbers, CIP13 codes, hospital switchboards) on purpose.
"""

# French typography (curly apostrophes, en dashes, NBSP) is part of what the corpus tests.
# ruff: noqa: RUF001

from __future__ import annotations

from random import Random

from tests.phi.heldout import names
from tests.phi.heldout.identifiers import NBSP

DRUGS = (
    "Kardégic 75 mg, 1 sachet le midi", "bisoprolol 2,5 mg le matin",
    "amoxicilline 1 g trois fois par jour pendant 7 jours",
    "Lovenox 4000 UI/0,4 mL une injection SC/j",
    "furosémide 40 mg le matin", "paracétamol 1 g toutes les 6 h si douleur (max 4 g/24 h)",
    "metformine 850 mg matin et soir", "apixaban 5 mg x 2/j", "atorvastatine 40 mg le soir",
    "lévothyroxine 75 µg à jeun", "insuline glargine 18 UI le soir", "pantoprazole 40 mg/j",
    "ceftriaxone 2 g/j IV", "morphine 2,5 mg SC si EVA > 4", "ramipril 5 mg/j",
    "Xarelto 20 mg au dîner", "prednisone 20 mg/j en décroissance", "tramadol 50 mg x 3/j",
    "macrogol 1 sachet/j", "Seresta 10 mg au coucher", "amlodipine 5 mg/j",
    "spironolactone 25 mg/j", "allopurinol 100 mg/j", "vitamine D 100 000 UI une ampoule/3 mois",
    "Augmentin 1 g/125 mg x 3/j", "enoxaparine 0,4 mL SC", "salbutamol 2 bouffées si besoin",
    "KCl 1 g x 2/j", "fer injectable 1000 mg en une perfusion", "Coversyl 5 mg",
)  # fmt: skip

LABS = (
    "Hb 11,2 g/dL", "créatinine 98 µmol/L (DFG 62 mL/min/1,73 m²)", "CRP 48 mg/L",
    "Na 134 mmol/L", "K+ 4,1 mmol/L", "troponine 35 ng/L puis 212 ng/L", "INR 2,6",
    "HbA1c 7,8 %", "plaquettes 212 G/L", "leucocytes 12,4 G/L", "NT-proBNP 3450 pg/mL",
    "TSH 2,1 mUI/L", "ferritine 18 µg/L", "albumine 31 g/L", "lactates 2,8 mmol/L",
    "pH 7,32 / pCO2 52 mmHg", "glycémie 1,86 g/L", "ASAT 2N, ALAT 3N", "lipase 450 UI/L",
    "D-dimères 1850 µg/L", "PCT 0,8 ng/mL", "bilirubine totale 28 µmol/L", "urée 12,5 mmol/L",
)  # fmt: skip

VITALS = (
    "TA 142/86 mmHg, FC 88/min, SpO2 94 % en air ambiant, T° 38,2 °C",
    "PA 118/72, pouls 64, apyrétique", "poids 72 kg, taille 1,68 m, IMC 25,5",
    "EVA 6/10", "score de Glasgow 15", "FR 24/min, SpO2 89 % sous 2 L/min",
    "diurèse 1,2 L/24 h", "TA 165/95 mmHg aux deux bras",
)  # fmt: skip

EPONYMS = (
    "maladie de Parkinson", "signe de Babinski", "score de Glasgow", "maladie de Crohn",
    "syndrome de Guillain-Barré", "test de Romberg", "manœuvre de Valsalva",
    "classification de Child-Pugh", "score de Wells", "maladie d’Alzheimer", "maladie de Horton",
    "syndrome de Cushing", "signe de Murphy", "triade de Charcot", "score de Mac Cabe",
    "classification de Garden", "maladie de Basedow", "syndrome de Sjögren", "score de Fine",
    "échelle de Braden", "score de Norton", "classification de Lown", "signe de Lasègue",
)  # fmt: skip

GUIDELINES = (
    "recommandations ESC 2021", "recommandations HAS 2019", "KDIGO 2012", "GOLD 2023",
    "SPILF 2017", "recommandations de la SFAR 2020", "consensus EULAR 2022", "ADA 2024",
    "recommandations HAS de 2014 actualisées en 2020", "guide du parcours de soins 2018",
)  # fmt: skip

ICD10 = ("I50.9", "J18.9", "E11.9", "N17.9", "I48.0", "C34.1", "S72.0", "K35.8", "G20", "F03",
         "I63.5", "J44.1", "A41.9", "E87.1", "R55", "Z51.5", "I21.4", "N39.0")  # fmt: skip
CCAM = ("DEQP003", "HHFA016", "NFKA008", "DZQM006", "EBQM001", "JDFE001", "NEKA020",
        "HMFC004", "ZCQK004", "YYYY010")  # fmt: skip


def _pairs(rng: Random, prefix: str, separator: str = " ") -> str:
    return separator.join([prefix] + [f"{rng.randint(0, 99):02d}" for _ in range(4)])


def hospital(rng: Random) -> tuple[str, str, str, str]:
    return rng.choice(names.HOSPITALS)


def of(noun: str) -> str:
    """French "de" with its elision: "de cardiologie", "d'urologie" (typographic apostrophe)."""
    return f"d’{noun}" if noun[0] in "aeiouéèêhAEIOUÉ" else f"de {noun}"


def hospital_header(rng: Random) -> str:
    """Letterhead: hospital, service, address, switchboard, secretariat, fax, service mailbox."""
    name, domain, address, switchboard = hospital(rng)
    service = rng.choice(names.SERVICES)
    secretariat = _pairs(rng, switchboard[:2], rng.choice((" ", ".", NBSP)))
    lines = [
        name.upper() if rng.random() < 0.5 else name,
        f"SERVICE {of(service).upper()}" if rng.random() < 0.6 else f"Service {of(service)}",
        address,
        f"Standard : {switchboard}",
        f"Secrétariat : {secretariat} – Fax : {_pairs(rng, switchboard[:2])}",
        f"{service.split()[0].replace('é', 'e')}.secretariat@{domain}",
    ]
    if rng.random() < 0.4:
        lines.append(
            f"FINESS {rng.randint(10**8, 10**9 - 1)} – SIRET {rng.randint(10**13, 10**14 - 1)}"
        )
    return "\n".join(lines[: rng.randint(3, len(lines))]) + "\n"


def institutional_contact(rng: Random) -> str:
    """A contact line of the hospital in running text (never a person's)."""
    _, domain, _, switchboard = hospital(rng)
    number = _pairs(rng, switchboard[:2], rng.choice((" ", ".", NBSP, "")))
    return rng.choice(
        (
            f"Contact pharmacie : {number}",
            f"l’interne de garde est joignable 24h/24 au {number}",
            f"bip {rng.randint(1000, 9999)}",
            f"poste {rng.randint(1000, 9999)}",
            f"Fax : {number}",
            f"Standard du {rng.choice(('CHU', 'centre hospitalier', 'GHT'))} : {switchboard}",
            f"écrire à pharmacie@{domain}",
            f"secrétariat du service : {number} (poste {rng.randint(100, 999)})",
            f"astreinte biologique : bip {rng.randint(100, 999)} ou {number}",
            f"écrire au bureau des entrées : bureau.entrees@{domain}",
            "Centre antipoison : "
            + rng.choice(("04 72 11 69 11", "05 61 77 74 47", "03 83 22 50 50")),
        )
    )


def capitalised(text: str) -> str:
    """First letter upper-cased, the rest untouched (str.capitalize lowercases it)."""
    return text[:1].upper() + text[1:]


def lot_number(rng: Random) -> str:
    """Product batch numbers, some shaped exactly like French phone numbers."""
    return (
        rng.choice(
            (
                f"lot n° {_pairs(rng, rng.choice(('06', '07')), '')}",
                f"lot {_pairs(rng, '07')}",
                f"N° de lot : {rng.randint(1, 9)}{rng.choice('ABCDEFKX')}{rng.randint(1000, 9999)}",
                f"Lot {rng.choice('ABCHT')}{rng.randint(10, 99)}-{rng.randint(100, 999)}",
                f"lot n°{NBSP}{_pairs(rng, '06', NBSP)}",
                f"LOT {rng.randint(10**7, 10**8 - 1)}",
            )
        )
        + f" (péremption {rng.randint(1, 12):02d}/{rng.randint(2025, 2029)})"
    )


def cip13(rng: Random) -> str:
    return f"34009{rng.randint(10**7, 10**8 - 1)}"


def ucd13(rng: Random) -> str:
    return f"34008{rng.randint(10**7, 10**8 - 1)}"


def clinical_sentence(rng: Random) -> str:
    """A sentence of clinical content with numbers but no identifier."""
    return rng.choice(
        (
            f"Au bilan biologique : {rng.choice(LABS)}, {rng.choice(LABS)}.",
            f"Constantes : {rng.choice(VITALS)}.",
            f"Traitement instauré : {rng.choice(DRUGS)}.",
            f"Pas d’argument pour : {rng.choice(EPONYMS)}.",
            f"Conformément aux {rng.choice(GUIDELINES)}, poursuite du traitement.",
            f"Codage : {rng.choice(ICD10)} (CIM-10), acte {rng.choice(CCAM)}.",
            f"Examen : {rng.choice(EPONYMS)} sans particularité, pas de déficit.",
            f"Relais par {rng.choice(DRUGS)} à J{rng.randint(2, 9)}.",
            f"Échographie : FEVG {rng.randint(25, 65)} %, pas d’épanchement.",
            f"Scanner thoracique : condensation lobaire droite de {rng.randint(2, 6)} cm.",
            f"Kinésithérapie respiratoire {rng.randint(2, 5)} fois par semaine.",
            f"Chambre {rng.randint(100, 450)}, lit {rng.randint(1, 2)}.",
        )
    )


def clinical_paragraph(rng: Random, sentences: int) -> str:
    return " ".join(clinical_sentence(rng) for _ in range(sentences))
