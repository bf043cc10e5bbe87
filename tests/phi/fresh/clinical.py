"""Documents about one patient: every identifier of the patient or a relative is labelled."""

from __future__ import annotations

import random

from tests.phi.fresh import people as p
from tests.phi.fresh.hospital import DRUGS, HOSPITALS, SERVICES
from tests.phi.fresh.record import Record


def _name(rng: random.Random, who: p.Person) -> str:
    style = rng.random()
    if style < 0.4:
        return f"{who.last.upper()} {who.first}"
    if style < 0.7:
        return f"{who.first} {who.last}"
    if style < 0.85:
        return f"{who.first} {who.last.upper()}"
    return who.last


def _doctor(rng: random.Random) -> p.Person:
    return p.person(rng)


def discharge_letter(rng: random.Random) -> Record:
    h, who, doc = rng.choice(HOSPITALS), p.person(rng), _doctor(rng)
    d, m, y = p.birthdate(rng)
    r = Record("discharge_letter").put(h.letterhead())
    r.line(f"Service de {rng.choice(SERVICES)} — Secrétariat : {h.number(rng)}")
    r.line(f"Fax : {h.number(rng)}\n")
    r.line("Dr ", ("PERSON", f"{doc.first[0]}. {doc.last}"), ", médecin traitant")
    r.line(
        ("ADDRESS", f"{rng.randint(1, 60)} rue de la Gare"),
        ", ",
        ("ZIP", doc.zip),
        " ",
        ("CITY", doc.city),
        "\n",
    ) if rng.random() < 0.3 else r.line()
    r.line(f"{h.city}, le {p.care_date(rng)}\n")
    r.line("Cher confrère,\n")
    r.put(
        "J'ai vu en consultation ",
        who.title + " ",
        ("PERSON", _name(rng, who)),
        ", né" + ("e" if who.female else "") + " le ",
        ("BIRTHDATE", p.date_text(rng, d, m, y)),
    )
    if rng.random() < 0.6:
        r.put(" à ", ("CITY", rng.choice(p.PLACES)[0]))
    r.line(
        f", hospitalisé{'e' if who.female else ''} du ",
        ("DATE", p.care_date(rng)),
        " au ",
        ("DATE", p.care_date(rng)),
        " pour décompensation cardiaque.",
    )
    r.line(
        f"Vit seul{'e' if who.female else ''} à domicile à ",
        ("CITY", who.city),
        ", aide-ménagère deux fois par semaine.",
    )
    r.line(f"Traitement de sortie : {rng.choice(DRUGS)} 1/j ; {rng.choice(DRUGS)} matin et soir.")
    if rng.random() < 0.5:
        r.line("IPP : ", ("IPP", p.ipp(rng)), " — N° de séjour : ", ("NDA", p.nda(rng)))
    r.line(
        f"\nRestant à votre disposition. Pour tout renseignement, contacter le secrétariat au "
        f"{h.number(rng)} ou {h.mailbox(rng)}."
    )
    return r


def nursing_handover(rng: random.Random) -> Record:
    who, rel = p.person(rng), p.person(rng)
    r = Record("nursing_handover")
    r.line(f"Transmissions ciblées — nuit du {rng.randint(1, 28)}/{rng.randint(1, 12)}")
    r.line(
        f"Ch. {rng.randint(101, 340)} : ",
        who.title.lower() + " ",
        ("PERSON", who.last.lower() if rng.random() < 0.4 else who.last),
        f", {rng.randint(62, 97)} ans",
    )
    r.line("D : agitation vers 2h, arrache sa voie veineuse.")
    r.line("A : contention levée à 4h après avis de l'interne (bip 4312).")
    kin = "époux" if who.female else "épouse"
    r.line(
        f"R : appel de son {kin} ",
        ("PERSON", rel.first),
        " au ",
        ("PHONE", p.mobile(rng)),
        ", prévenu" + ("" if who.female else "e") + ".",
    )
    if rng.random() < 0.5:
        r.line(
            "Fille (",
            ("PERSON", f"{rel.first} {who.last}"),
            ") passera le ",
            ("DATE", p.care_date(rng, year=False)),
            " pour le linge.",
        )
    r.line("Domicile : ", ("ADDRESS", who.street), ", ", ("ZIP", who.zip), " ", ("CITY", who.city))
    r.line("Glycémie 1,42 g/L à 6h. Diurèse 1200 mL.")
    return r


def table(rng: random.Random) -> Record:
    sep = rng.choice([";", "\t", "|", ","])
    r = Record("table")
    r.line(rng.choice(["export du dossier, liste des entrées du jour :", "Patients à rappeler",
                       "voici le tableau, peux-tu vérifier les doublons ?"]))  # fmt: skip
    header = ["IPP", "NOM", "PRENOM", "DDN", "VILLE", "LIT"]
    if sep == "|":
        r.line("| " + " | ".join(header) + " |")
        r.line("|" + "---|" * len(header))
    else:
        r.line(sep.join(header))
    for _ in range(rng.randint(2, 6)):
        who = p.person(rng)
        d, m, y = p.birthdate(rng)
        cells: list[tuple[str, str] | str] = [
            ("IPP", p.ipp(rng)),
            ("PERSON", who.last.upper()),
            ("PERSON", who.first),
            ("BIRTHDATE", f"{d:02d}/{m:02d}/{y}"),
            ("CITY", who.city),
            str(rng.randint(1, 30)),
        ]
        pieces: list[tuple[str, str] | str] = ["| "] if sep == "|" else []
        for index, cell in enumerate(cells):
            if index:
                pieces.append(" | " if sep == "|" else sep)
            pieces.append(cell)
        if sep == "|":
            pieces.append(" |")
        r.line(*pieces)
    return r


def lab_report(rng: random.Random) -> Record:
    h, who = rng.choice(HOSPITALS), p.person(rng)
    d, m, y = p.birthdate(rng)
    r = Record("lab_report").line(f"LABORATOIRE DE BIOLOGIE MÉDICALE — {h.name.upper()}")
    r.line(f"Accueil laboratoire : {h.number(rng)}  —  {h.mailbox(rng)}")
    r.line(
        "Patient : ",
        ("PERSON", f"{who.last.upper()} {who.first}"),
        "   Né(e) le : ",
        ("BIRTHDATE", f"{d:02d}/{m:02d}/{y}"),
    )
    r.line(
        "N° dossier : ",
        ("IPP", p.ipp(rng)),
        "   Prélevé le ",
        ("DATE", p.care_date(rng)),
        " à 07:45",
    )
    r.line("Hémoglobine        11,2 g/dL   (12,0 - 16,0)")
    r.line("Plaquettes         245 G/L     (150 - 400)")
    r.line("Créatinine         98 µmol/L   DFG 61 mL/min/1,73m²")
    r.line("CRP                34 mg/L")
    r.line("Validé par le biologiste, Dr ", ("PERSON", p.person(rng).last.upper()))
    return r


def imaging_report(rng: random.Random) -> Record:
    who = p.person(rng)
    r = Record("imaging_report").line("COMPTE RENDU DE SCANNER THORACIQUE")
    r.line(
        "Examen du ",
        ("DATE", p.care_date(rng)),
        " — ",
        who.title + " ",
        ("PERSON", f"{who.first} {who.last}"),
        " — Venue n° ",
        ("NDA", p.nda(rng)),
    )
    r.line("Indication : dyspnée, suspicion d'embolie pulmonaire.")
    r.line("Technique : injection de 80 mL d'Omnipaque 350, coupes de 1,25 mm.")
    r.line(
        "Résultat : pas de défect endoluminal. Nodule de 6 mm du LSD, à contrôler à 12 mois "
        "(Fleischner 2017)."
    )
    r.line("Dr ", ("PERSON", p.person(rng).last), ", radiologue")
    return r


def prompt(rng: random.Random) -> Record:
    who = p.person(rng)
    d, m, y = p.birthdate(rng)
    r = Record("prompt")
    style = rng.randrange(5)
    if style == 0:
        r.line(
            "peux tu resumer le dossier de ",
            rng.choice(["mme ", "m. ", "mr ", ""]),
            ("PERSON", f"{who.last.lower()} {who.first.lower()}"),
            " stp, il a fait un avc le mois dernier",
        )
    elif style == 1:
        r.line(
            "redige un courrier pour ",
            ("PERSON", f"{who.first.lower()} {who.last.lower()}"),
            " ne le ",
            ("BIRTHDATE", f"{d}/{m}/{y}"),
            " qui habite ",
            ("ADDRESS", who.street.lower()),
            " a ",
            ("CITY", who.city.lower()),
        )
    elif style == 2:
        r.line(
            "la conclusion de ",
            ("PERSON", f"{who.last.lower()} {who.first.lower()}"),
            " ipp ",
            ("IPP", p.ipp(rng)),
            " svp, je la trouve pas dans le dossier",
        )
    elif style == 3:
        r.line(
            "Summarise the chart of Mrs ",
            ("PERSON", f"{who.first} {who.last}"),
            ", DOB ",
            ("BIRTHDATE", f"{d:02d}/{m:02d}/{y}"),
            ", admitted le ",
            ("DATE", p.care_date(rng)),
            " en neuro. Phone of her son: ",
            ("PHONE", p.mobile(rng)),
        )
    else:
        r.line(
            "reformule : le pt ",
            ("IPP", p.ipp(rng)),
            " sort demain, rdv de controle le ",
            ("DATE", p.care_date(rng, year=False)),
            ", son fils ",
            ("PERSON", who.first.lower()),
            " a le numero ",
            ("PHONE", p.mobile(rng)),
        )
    return r


def email_about_patient(rng: random.Random) -> Record:
    h, who = rng.choice(HOSPITALS), p.person(rng)
    r = Record("email")
    r.line(f"De : {h.mailbox(rng)}\nÀ : {h.mailbox(rng)}\nObjet : RE: transfert\n")
    r.line("Bonjour,")
    r.line(
        "Le transfert de ",
        who.title + " ",
        ("PERSON", _name(rng, who)),
        " (IPP ",
        ("IPP", p.ipp(rng)),
        ") est prévu le ",
        ("DATE", p.care_date(rng, year=False)),
        ".",
    )
    r.line("Son adresse mail pour la convocation : ", ("EMAIL", p.email(rng, who)))
    if rng.random() < 0.5:
        _, m, y = p.birthdate(rng)
        r.line("NIR : ", ("NIR", p.nir(rng, who.female, y, m)))
    r.line(f"Merci de rappeler le cadre au {h.number(rng)} (poste {rng.randint(2000, 6999)}).")
    r.line(f"Cordialement,\nSecrétariat de {rng.choice(SERVICES)}")
    return r


def admin_form(rng: random.Random) -> Record:
    who = p.person(rng)
    d, m, y = p.birthdate(rng)
    r = Record("admin_form").line("FICHE ADMINISTRATIVE — BUREAU DES ENTRÉES")
    r.line("Nom : ", ("PERSON", who.last.upper()), "\nPrénom : ", ("PERSON", who.first))
    r.line(
        "Date de naissance : ",
        ("BIRTHDATE", f"{d:02d}/{m:02d}/{y}"),
        "  Lieu : ",
        ("CITY", rng.choice(p.PLACES)[0]),
    )
    r.line(
        "Adresse : ",
        ("ADDRESS", who.street),
        "\n          ",
        ("ZIP", who.zip),
        " ",
        ("CITY", who.city),
    )
    r.line("Tél. : ", ("PHONE", p.mobile(rng)), "   Courriel : ", ("EMAIL", p.email(rng, who)))
    r.line("N° sécurité sociale : ", ("NIR", p.nir(rng, who.female, y, m)))
    r.line("RIB pour remboursement : ", ("IBAN", p.iban(rng)))
    r.line("Médecin traitant (RPPS) : ", ("RPPS", p.rpps(rng)))
    return r


def english_note(rng: random.Random) -> Record:
    who = p.person(rng)
    r = Record("english_note").line("Handover note (ICU) — bilingual team")
    r.line(
        "Patient ",
        ("PERSON", f"{who.first} {who.last}"),
        ", MRN ",
        ("IPP", p.ipp(rng)),
        ", admitted on ",
        ("DATE", p.care_date(rng)),
        " after a fall at home in ",
        ("CITY", who.city),
        ".",
    )
    r.line(
        "Next of kin: ", ("PERSON", p.person(rng).first), " (daughter), ", ("PHONE", p.mobile(rng))
    )
    r.line("Plan: keep noradrénaline 0.2 µg/kg/min, wean tomorrow; lactates 2.1 mmol/L.")
    return r


BEARING = (discharge_letter, nursing_handover, table, lab_report, imaging_report, prompt,
           email_about_patient, admin_form, english_note)  # fmt: skip
