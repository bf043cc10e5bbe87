"""Clinical text that holds no identifier but looks like it might: doses, lab values, codes, lot
numbers, eponyms, guideline years, scores, times, institutional letterheads, bad checksums."""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.phi import fakes

DRUGS = [
    "amoxicilline 1 g x 3/j", "Doliprane 1000 mg 1 cp x 4/j si douleur", "Kardegic 75 mg 1/j",
    "Lovenox 4000 UI/0,4 mL 1 inj SC/j", "furosémide 40 mg le matin", "Levothyrox 75 µg à jeun",
    "insuline glargine 18 UI le soir", "héparine 25000 UI/24 h IVSE", "Metformine 850 mg x 2/j",
    "Xarelto 20 mg au dîner", "Augmentin 1 g/125 mg x 3/j pendant 7 jours",
    "Ventoline 100 µg 2 bouffées si besoin", "paracétamol 500 mg, 2 gélules x 3/j",
    "Bisoprolol 2,5 mg 1/j", "Ramipril 5 mg 1/j", "Eliquis 5 mg x 2/j", "Tahor 40 mg le soir",
    "Inexium 20 mg 1/j", "ceftriaxone 2 g IV 1/j", "morphine 10 mg LP x 2/j",
    "Seresta 10 mg au coucher",
    "vitamine D 100 000 UI 1 ampoule/3 mois", "potassium 1 g x 3/j", "Lasilix 40 mg 1 cp le matin",
    "DOLIPRANE 1000 MG cp", "KARDEGIC 75 MG sachet", "AMLODIPINE 5 mg",
]  # fmt: skip
LABS = [
    "Hb 12,3 g/dL", "créatinine 85 µmol/L", "CRP 45 mg/L", "plaquettes 250 G/L",
    "leucocytes 12,4 G/L", "Na 138 mmol/L", "K+ 4,2 mmol/L", "TSH 2,1 mUI/L", "HbA1c 7,2 %",
    "troponine 1250 ng/L", "BNP 850 pg/mL", "INR 2,5", "DFG 54 mL/min/1,73 m²",
    "lactates 3,1 mmol/L", "PaO2 72 mmHg", "SpO2 94 % en AA", "TA 145/85 mmHg", "FC 88 bpm",
    "T° 38,5 °C", "poids 72 kg", "IMC 25,5 kg/m²", "ferritine 12 µg/L", "albumine 31 g/L",
    "ASAT 45 UI/L, ALAT 60 UI/L", "PSA 4,8 ng/mL", "D-dimères 1200 ng/mL", "glycémie 1,32 g/L",
]  # fmt: skip
ICD10 = ["I21.4", "C50.9", "J18.9", "E11.9", "I10", "N17.9", "K35.8", "F32.2", "G20", "I48.0",
         "S72.0", "J44.1", "I50.0", "C34.1", "A41.9"]  # fmt: skip
CCAM = ["DZQM006", "EBFA012", "HHFA016", "NFKA006", "DEQP003", "ZBQK002", "JKFA015", "YYYY123",
        "DDAF001", "HMFC004"]  # fmt: skip
EPONYMS = [
    "maladie de Parkinson", "signe de Babinski", "score de Glasgow à 15",
    "syndrome de Guillain-Barré",
    "maladie de Crohn", "maladie d'Alzheimer", "signe de Murphy", "manœuvre de Valsalva",
    "classification de Killip II", "score de Wells à 4", "syndrome de Cushing",
    "thyroïdite de Hashimoto", "maladie de Horton", "lymphome de Hodgkin",
    "syndrome de Wolff-Parkinson-White", "signe de Lasègue", "échelle de Norton",
    "score de Child-Pugh B", "score de Gleason 7 (3+4)", "indice de Breslow à 1,2 mm",
    "maladie de Basedow", "signe de Claude Bernard-Horner", "maladie de Charcot",
    "syndrome de Sjögren", "maladie de Wilson", "test de Romberg", "sonde de Swan-Ganz",
    "intervention de Hartmann", "Holter ECG", "écho-Doppler", "triade de Whipple",
]  # fmt: skip
GUIDELINES = ["recommandations HAS 2019", "ESC 2023", "selon les guidelines ESC 2021",
              "KDIGO 2012", "GOLD 2024", "recommandations SFAR 2020", "AHA/ACC 2022",
              "NICE 2019", "ESH 2023", "recommandations SPILF 2021"]  # fmt: skip
SCORES = ["NIHSS 4", "EVA 6/10", "MMSE 24/30", "score CHA2DS2-VASc à 4", "HAS-BLED 2",
          "Apgar 9/10", "ASA 2", "NYHA II", "FEVG 45 %", "stade 3b", "grade II", "GCS 15",
          "Karnofsky 70 %", "score de Rankin 2", "qSOFA 2"]  # fmt: skip
TIMES = ["à 14h30", "à 8 h", "vers 22h15", "à 10:45", "pendant 48 h", "à J3", "à H6",
         "depuis 3 jours", "il y a 2 semaines", "durant 15 min", "toutes les 6 h"]  # fmt: skip

FR_SENTENCES = [
    "Patient de {age} ans aux antécédents de {eponym}, admis pour douleur thoracique {time}.",
    "Patiente de {age} ans, HTA, DT2, traitée par {drug}.",
    "Bilan biologique : {lab}, {lab}, {lab}.",
    "Diagnostic principal codé {icd} ; acte CCAM {ccam}.",
    "Prise en charge conforme aux {guideline}.",
    "À l'examen : {score}, {lab}, pas de {eponym}.",
    "Traitement de sortie : {drug} ; {drug} ; {drug}.",
    "Évolution favorable sous {drug}, {lab} à J5.",
    "Vaccination réalisée, lot {lot}, CIP {cip}.",
    "Score calculé : {score}. Pas de {eponym} retrouvé.",
    "Échographie cardiaque : {score}, pas d'épanchement.",
    "Contrôle {time} : {lab}.",
    "Antécédents : {eponym}, appendicectomie, {eponym}.",
    "Codage PMSI : {icd}, {icd} ; actes {ccam}, {ccam}.",
    "Relais per os par {drug} {time}.",
    "Conclusion : {eponym} probable, à confirmer selon {guideline}.",
    "Allergie à la pénicilline. {drug}.",
    "Dispositif implanté : référence {lot}, code {cip}.",
]  # fmt: skip
EN_SENTENCES = [
    "A {age}-year-old man with a history of Parkinson's disease presented with chest pain {time}.",
    "Labs: {lab}, {lab}; discharge medication {drug}.",
    "Management followed the {guideline} guidelines; diagnosis coded {icd}.",
    "On examination {score}; no sign of Crohn's disease.",
    "Started on {drug}, batch {lot}.",
    "Past history: Wilson's disease, Cushing syndrome ruled out, {score}.",
]  # fmt: skip
LETTERHEAD_HOSPITALS = [
    "CHU de {city}", "Centre Hospitalier de {city}", "Centre hospitalier {city}",
    "Hôpital Européen Georges Pompidou", "Hôpital Édouard Herriot", "Clinique Saint-Joseph",
    "Groupe Hospitalier Paul Guiraud", "CHRU de {city}", "Institut Gustave Roussy",
    "Hôpital Privé Jean Mermoz", "Polyclinique du Parc", "AP-HP - Hôpital Bichat",
]  # fmt: skip
SERVICES = ["cardiologie", "neurologie", "pneumologie", "gériatrie", "chirurgie digestive",
            "médecine interne", "néphrologie", "oncologie", "urgences", "réanimation"]  # fmt: skip


def lot(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return rng.choice([
        f"{rng.randint(10, 99)}{rng.choice(letters)}{rng.randint(1000, 9999)}",
        f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(100000, 999999)}",
        f"{rng.randint(1000000, 9999999)}",
    ])  # fmt: skip


def cip13(rng: random.Random) -> str:
    return "34009" + f"{rng.randint(0, 99999999):08d}"


def fill(template: str, rng: random.Random) -> str:
    """``template`` with each {slot} replaced by a fresh random look-alike."""
    out = template
    fillers: dict[str, Callable[[], str]] = {
        "{age}": lambda: str(rng.randint(18, 95)),
        "{eponym}": lambda: rng.choice(EPONYMS),
        "{time}": lambda: rng.choice(TIMES),
        "{drug}": lambda: rng.choice(DRUGS),
        "{lab}": lambda: rng.choice(LABS),
        "{icd}": lambda: rng.choice(ICD10),
        "{ccam}": lambda: rng.choice(CCAM),
        "{guideline}": lambda: rng.choice(GUIDELINES),
        "{score}": lambda: rng.choice(SCORES),
        "{lot}": lambda: lot(rng),
        "{cip}": lambda: cip13(rng),
    }
    for slot, make in fillers.items():
        while slot in out:
            out = out.replace(slot, make(), 1)
    return out


def clinical_paragraph(rng: random.Random, sentences: int, *, english: bool = False) -> str:
    pool = EN_SENTENCES if english else FR_SENTENCES
    return " ".join(fill(rng.choice(pool), rng) for _ in range(sentences))


def bad_checksums(rng: random.Random) -> str:
    """A line quoting numbers shaped like identifiers whose checksums are wrong."""
    return rng.choice([
        f"Référence de facture : {fakes.invalid_nir(rng)}.",
        f"Code-barres du flacon : {fakes.invalid_iban(rng)}.",
        f"RPPS indiqué sur l'ordonnance (erroné) : {fakes.invalid_rpps(rng)}.",
        f"NIR saisi (clé invalide) : {fakes.invalid_nir(rng)}.",
        f"IBAN fourni (invalide) : {fakes.invalid_iban(rng)}.",
    ])  # fmt: skip


def letterhead(rng: random.Random) -> str:
    """An institutional letterhead: not patient data, so never gold."""
    town = rng.choice(fakes.LEXICON_CITIES)
    hospital = rng.choice(LETTERHEAD_HOSPITALS).format(city=town)
    service = rng.choice(SERVICES)
    domain = "chu-" + fakes.ascii_fold(town).lower().replace(" ", "-").replace("'", "") + ".fr"
    mailbox = rng.choice(["secretariat." + fakes.ascii_fold(service.split()[0]), "accueil",
                          "contact", "rdv-" + fakes.ascii_fold(service.split()[0])])  # fmt: skip
    lines = [hospital, f"Service de {service}" if rng.random() < 0.7 else f"Pôle {service}"]
    lines.append(
        f"{fakes.street(rng)}, {fakes.postcode(rng)} {town.upper() if rng.random() < 0.3 else town}"
    )
    phones = [f"Standard : {fakes.phone(rng, mobile=False)}",
              f"Secrétariat : {fakes.phone(rng, mobile=False)}",
              f"Fax : {fakes.phone(rng, mobile=False)}"]  # fmt: skip
    lines.append(" \u2013 ".join(rng.sample(phones, rng.randint(1, 3))))
    if rng.random() < 0.7:
        lines.append(f"{mailbox}@{domain}")
    if rng.random() < 0.5:
        lines.append(f"FINESS : {rng.randint(10**8, 10**9 - 1)}")
    if rng.random() < 0.3:
        lines.append(f"SIRET : {fakes.siret(rng)}")
    return "\n".join(lines) + "\n\n"
