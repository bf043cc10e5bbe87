"""Documents about no patient: the hospital's own contacts, suppliers, lots, versions, roles."""

from __future__ import annotations

import random

from tests.phi.fresh import people as p
from tests.phi.fresh.hospital import DRUGS, HOSPITALS, SERVICES, SUPPLIERS
from tests.phi.fresh.record import Record


def _version_date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2018, 2026)}"


def pharmacy_procedure(rng: random.Random) -> Record:
    h = rng.choice(HOSPITALS)
    r = Record("pharmacy_procedure").put(h.letterhead())
    r.line(f"PROCÉDURE PUI-{rng.randint(10, 99)} — Dispensation nominative des stupéfiants")
    r.line(
        f"Version {rng.randint(1, 6)} du {_version_date(rng)} — validée par la COMEDIMS le "
        f"{_version_date(rng)}\n"
    )
    r.line(f"1. Objet : sécuriser la délivrance de {rng.choice(DRUGS)}.")
    r.line(
        f"2. Contact pharmacie : {h.number(rng)} (poste {rng.randint(2000, 6999)}), "
        f"astreinte pharmaceutique joignable 24h/24 au {h.number(rng)}."
    )
    r.line(f"3. Les commandes urgentes sont envoyées à {h.mailbox(rng)}.")
    r.line(
        "4. Le coffre est ouvert par l'IDE et le cadre ; Mme la Cadre de santé vérifie le "
        "registre chaque lundi."
    )
    r.line(
        f"Rédaction : pharmacien gérant — Approbation : M. le Directeur des soins — "
        f"Prochaine révision : {_version_date(rng)}"
    )
    return r


def sterilisation(rng: random.Random) -> Record:
    h = rng.choice(HOSPITALS)
    r = Record("sterilisation").line("STÉRILISATION CENTRALE — MODE OPÉRATOIRE")
    r.line(f"Réf. STE-MO-{rng.randint(100, 999)}   Date d'application : {_version_date(rng)}")
    r.line("Cycle prion : 134 °C pendant 18 min. Test de Bowie-Dick quotidien à 7h00.")
    r.line(
        f"Livraison des plateaux au bloc, niveau -1. Astreinte technique : bip "
        f"{rng.randint(1000, 9999)} ; en dehors des heures ouvrables, standard au "
        f"{h.number(rng)}."
    )
    r.line(f"Non-conformités à déclarer sur {h.mailbox(rng)} dans les 24 h.")
    return r


def supplier_notice(rng: random.Random) -> Record:
    name, street, code, city = rng.choice(SUPPLIERS)
    r = Record("supplier_notice").line(f"{name}\n{street}\n{code} {city}")
    r.line(f"Tél. service client : {p.landline(rng)} — Fax : {p.landline(rng)}\n")
    r.line("INFORMATION DE SÉCURITÉ — RAPPEL DE LOTS")
    r.line(f"Produit : {rng.choice(DRUGS)}, boîte de 10")
    for _ in range(rng.randint(1, 3)):
        r.line(
            f"lot n° {rng.choice(['06', '07', 'A0'])}{p.digits(rng, 8)}  — péremption "
            f"{rng.randint(1, 12):02d}/{rng.randint(2026, 2029)}"
        )
    r.line(
        f"Courrier du {_version_date(rng)}. Merci de retourner le formulaire à "
        f"vigilance@{name.split()[0].lower()}.com."
    )
    return r


def rota(rng: random.Random) -> Record:
    h = rng.choice(HOSPITALS)
    r = Record("rota").line(
        f"Planning des gardes — {rng.choice(SERVICES)} — semaine {rng.randint(1, 52)}"
    )
    sep = rng.choice([";", "\t", " | "])
    r.line(sep.join(["JOUR", "POSTE", "TÉLÉPHONE", "BIP"]))
    for day in ("lundi", "mardi", "mercredi", "jeudi", "vendredi"):
        r.line(sep.join([day, rng.choice(["senior", "interne", "IDE coordination"]),
                         h.number(rng), str(rng.randint(1000, 9999))]))  # fmt: skip
    r.line(f"Standard : {h.number(rng)} — Boîte du service : {h.mailbox(rng)}")
    return r


def minutes(rng: random.Random) -> Record:
    h = rng.choice(HOSPITALS)
    r = Record("minutes").line(f"COMPTE RENDU — CLIN du {_version_date(rng)}")
    r.line(
        "Présents : le Président de la CME, Mme la Directrice, le Cadre supérieur de pôle, "
        "l'équipe opérationnelle d'hygiène."
    )
    r.line(f"1. Taux de BMR en {rng.choice(SERVICES)} : 3,2 pour 1000 JH (cible < 2).")
    r.line("2. Audit friction hydro-alcoolique : 78 % de conformité.")
    r.line(f"3. Prochaine réunion le {_version_date(rng)} en salle du conseil, {h.street}.")
    r.line(f"Contact : {h.mailbox(rng)} / {h.number(rng)}")
    return r


def leaflet(rng: random.Random) -> Record:
    h = rng.choice(HOSPITALS)
    r = Record("leaflet").line("LIVRET D'ACCUEIL — Votre hospitalisation en ambulatoire")
    r.line("La veille : douche à la Bétadine, restez à jeun à partir de minuit.")
    r.line(f"Le jour J, présentez-vous à l'accueil : {h.street}, {h.zip} {h.city}.")
    r.line(f"En cas de problème après votre retour, appelez le {h.number(rng)} (24h/24) ou le 15.")
    r.line(f"Pour annuler : {h.mailbox(rng)}. Parking gratuit les 2 premières heures.")
    return r


def memo(rng: random.Random) -> Record:
    h = rng.choice(HOSPITALS)
    r = Record("memo").line(f"NOTE DE SERVICE N° {rng.randint(2020, 2026)}-{rng.randint(10, 300)}")
    r.line(f"Date : {_version_date(rng)}\nDe : M. le Directeur général\nÀ : tous les services")
    r.line("Objet : travaux du parking P2")
    r.line(
        f"Les travaux débuteront le {_version_date(rng)}. L'accès se fera par le "
        f"{rng.randint(2, 40)} rue des Écoles. Renseignements au {h.number(rng)}."
    )
    return r


def stock_table(rng: random.Random) -> Record:
    r = Record("stock_table").line("inventaire armoire pharmacie, à recopier :")
    sep = rng.choice([";", "\t", ","])
    r.line(sep.join(["Produit", "Lot", "Péremption", "Quantité", "Code CIP"]))
    for _ in range(rng.randint(3, 7)):
        r.line(sep.join([rng.choice(DRUGS), rng.choice(["B", "X", "0"]) + p.digits(rng, 7),
                         f"{rng.randint(1, 12):02d}/{rng.randint(2026, 2029)}",
                         str(rng.randint(1, 60)), "340093" + p.digits(rng, 7)]))  # fmt: skip
    return r


def clean_prompt(rng: random.Random) -> Record:
    r = Record("clean_prompt")
    r.line(rng.choice([
        "quelle est la dose max de paracetamol chez le sujet age de 45 kg ?",
        "rewrite this protocol in plain french: heparin 5000 UI sc toutes les 12h, anti-Xa à J3",
        "resume la reco HAS 2023 sur la prise en charge de l'AVC, version du 12/06/2023",
        "fais moi un tableau des antibiotiques actifs sur le SARM avec posologies",
        "traduis en anglais : le patient doit rester à jeun 6 heures avant l'intervention",
        f"Mme la Cadre demande le planning du {rng.randint(1, 28)}/{rng.randint(1, 12)}, tu peux "
        "le mettre en forme ?",
    ]))  # fmt: skip
    return r


def english_policy(rng: random.Random) -> Record:
    h = rng.choice(HOSPITALS)
    r = Record("english_policy").line(
        f"Infection control policy — Effective date: {_version_date(rng)}"
    )
    r.line("Scope: all wards. Owner: Head of Infection Prevention.")
    r.line(
        f"Questions: {h.mailbox(rng)}, extension {rng.randint(2000, 6999)}, switchboard "
        f"{h.number(rng)}."
    )
    return r


CLEAN = (pharmacy_procedure, sterilisation, supplier_notice, rota, minutes, leaflet, memo,
         stock_table, clean_prompt, english_policy)  # fmt: skip
