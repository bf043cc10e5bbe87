"""Pasted tables: the header names the columns, so cells need no keyword (issue 15)."""

from __future__ import annotations

from policies.phi import detect


def found(text: str) -> list[tuple[str, str]]:
    return [(span.type, text[span.start : span.end]) for span in detect(text)]


def test_cells_under_named_columns_are_reported_with_the_column_kind() -> None:
    text = (
        "Peux-tu trier ces entrées ?\n"
        "IPP;NOM;PRENOM;DDN;MOTIF\n"
        "8123456;KERMARREC;Soizic;12/03/1950;chute\n"
        "55667788;Le Bihan;Ewen;01/02/1961;AVC\n"
    )
    assert found(text) == [
        ("IPP", "8123456"),
        ("PERSON", "KERMARREC"),
        ("PERSON", "Soizic"),
        ("BIRTHDATE", "12/03/1950"),
        ("IPP", "55667788"),
        ("PERSON", "Le Bihan"),
        ("PERSON", "Ewen"),
        ("BIRTHDATE", "01/02/1961"),
    ]


def test_tab_and_pipe_separated_tables_and_quoted_cells() -> None:
    tsv = 'Nom\tPrénom\tVenue\n"Abgrall"\tNolwenn\t2024001234\n'
    assert found(tsv) == [("PERSON", "Abgrall"), ("PERSON", "Nolwenn"), ("NDA", "2024001234")]
    pipes = "Date entrée | Ville | N° patient\n03/04/2024 | Loudéac | 4455667\n"
    assert found(pipes) == [("DATE", "03/04/2024"), ("CITY", "Loudéac"), ("IPP", "4455667")]


def test_a_table_ends_at_the_first_line_without_its_separator() -> None:
    text = "NOM;PRENOM\nQUERE;Anouck\n\nLe protocole 12345678 ne change pas.\n"
    assert found(text) == [("PERSON", "QUERE"), ("PERSON", "Anouck")]


def test_tables_without_identifying_columns_are_left_alone() -> None:
    text = "PRODUIT;LOT;PEREMPTION;QUANTITE\nKardegic 75 mg;06123456;03/2027;40\n"
    assert found(text) == []
    # One named column is not enough to call a line a header.
    assert found("Nom;Dose\nBisoprolol;2,5 mg\n") == []
