"""Names, places and streets for the held-out corpus, written by hand for it.

Deliberately independent of the detector's lexicons and of the first corpus' generator: first
names and surnames of many origins (French regions, Maghreb, West Africa, the Caribbean, Portugal,
Italy, Spain, Eastern Europe, Vietnam, Turkey...), villages as well as cities, compound names.
"""

# French typography (curly apostrophes, en dashes, NBSP) is part of what the corpus tests.
# ruff: noqa: RUF001

from __future__ import annotations

FEMALE_FIRST = (
    "Jeanne", "Marie-Thérèse", "Solène", "Gwenaëlle", "Maëlys", "Océane", "Ginette", "Huguette",
    "Paulette", "Yvonne", "Odette", "Bernadette", "Josiane", "Brigitte", "Sylvie", "Nathalie",
    "Séverine", "Aurélie", "Émilie", "Clémence", "Anaïs", "Zoé", "Léna", "Inès", "Yasmina",
    "Fatima", "Khadija", "Nadia", "Samira", "Leïla", "Aïcha", "Malika", "Fatoumata", "Aminata",
    "Mariama", "Awa", "Adjoa", "Ruth", "Rose-Marie", "Maryse", "Ghislaine", "Conceição",
    "Maria", "Fernanda", "Graziella", "Giulia", "Carmen", "Pilar", "Agnieszka", "Katarzyna",
    "Olena", "Svetlana", "Thi Lan", "Mai", "Linh", "Ayşe", "Elif", "Noémie", "Capucine",
    "Apolline", "Bérénice", "Margaux", "Lou", "Mathilde", "Perrine", "Annick", "Maïwenn",
    "Soizic", "Édith", "Colette", "Lucienne", "Germaine", "Thérèse", "Danielle", "Chantal",
)  # fmt: skip

MALE_FIRST = (
    "Edouard", "Richard", "Jean-Pierre", "Jean-Marc", "Gérard", "Marcel", "Raymond", "Roger",
    "Lucien", "André", "Fernand", "Gilbert", "Yves", "Hervé", "Loïc", "Erwan", "Gwenaël",
    "Ronan", "Thierry", "Pascal", "Christophe", "Sébastien", "Jérôme", "Grégoire", "Baptiste",
    "Mathéo", "Noé", "Timothée", "Anatole", "Aurélien", "Mohamed", "Karim", "Rachid", "Youssef",
    "Mehdi", "Nordine", "Abdelkader", "Samir", "Mamadou", "Moussa", "Ibrahima", "Seydou",
    "Kouassi", "Jean-Baptiste", "Fabrice", "Ludovic", "Joël", "João", "Manuel", "Luís",
    "Giuseppe", "Salvatore", "Enzo", "Alejandro", "Javier", "Piotr", "Tomasz", "Vasile",
    "Dmitri", "Minh", "Quang", "Duc", "Mehmet", "Emre", "Hugo", "Clément", "Maxence", "Gaspard",
    "Aymeric", "Benoît", "Florent", "Rémi", "Cyrille", "Didier", "Maurice", "Albert", "Léon",
)  # fmt: skip

SURNAMES = (
    "Durand", "Dumont", "Lefort", "Barbier", "Maillet", "Le Goff", "Le Bihan", "Kerjean",
    "Quéméner", "Tanguy", "Riou", "Guézennec", "Caradec", "Morvan", "Lhermitte", "Fournel",
    "Chauvin", "Vasseur", "Delattre", "Deschamps", "Lemaire", "Poulain", "Hébert", "Lecomte",
    "Marchal", "Vuillemin", "Grosjean", "Schaeffer", "Muller", "Kieffer", "Bauer", "Ortiz",
    "Rigaud", "Pujol", "Castanet", "Soulié", "Estève", "Cazenave", "Etcheverry", "Irigoyen",
    "Bonnefoy", "Chabert", "Fabre", "Roussel", "Besnard", "Pelletier", "Lebrun", "Carpentier",
    "Bensaïd", "Benali", "Haddad", "Bouzid", "Cherif", "Mansouri", "El Amrani", "Belkacem",
    "Ouédraogo", "Traoré", "Diallo", "Koné", "Ndiaye", "Diop", "Camara", "Kouyaté", "Mensah",
    "Jean-Louis", "Célestine", "Rosemond", "Agathe", "Pierre-Louis", "Da Silva", "Ferreira",
    "Gonçalves", "Rodrigues", "Pereira", "Esposito", "Ricci", "Bianchi", "Colombo", "García",
    "Fernández", "Navarro", "Kowalski", "Nowak", "Wiśniewska", "Popescu", "Ionescu", "Ivanov",
    "Nguyen", "Tran", "Pham", "Vo", "Yilmaz", "Demir", "Öztürk", "Dupont-Moreau", "de La Roche",
    "Saint-Clair", "Vidal", "Roche", "Blanc", "Petit", "Masson", "Boyer", "Gauthier", "Perrin",
    "Guillot", "Charpentier", "Dufour", "Aubert", "Moulin", "Leclerc", "Hamon", "Lacroix",
)  # fmt: skip

# (city, postcode): cities, small towns and villages, Corsica and overseas included.
CITIES = (
    ("Quimperlé", "29300"), ("Oyonnax", "01100"), ("Bourg-en-Bresse", "01000"),
    ("Saint-Pol-de-Léon", "29250"), ("Landerneau", "29800"), ("Pontivy", "56300"),
    ("Lannion", "22300"), ("Dinan", "22100"), ("Fougères", "35300"), ("Vitré", "35500"),
    ("Châteaubriant", "44110"), ("Cholet", "49300"), ("Les Sables-d'Olonne", "85100"),
    ("Niort", "79000"), ("Cognac", "16100"), ("Périgueux", "24000"), ("Sarlat-la-Canéda", "24200"),
    ("Mont-de-Marsan", "40000"), ("Oloron-Sainte-Marie", "64400"), ("Tarbes", "65000"),
    ("Lourdes", "65100"), ("Foix", "09000"), ("Castelnaudary", "11400"), ("Millau", "12100"),
    ("Rodez", "12000"), ("Aurillac", "15000"), ("Le Puy-en-Velay", "43000"), ("Annonay", "07100"),
    ("Privas", "07000"), ("Montélimar", "26200"), ("Gap", "05000"), ("Digne-les-Bains", "04000"),
    ("Manosque", "04100"), ("Draguignan", "83300"), ("Hyères", "83400"), ("Menton", "06500"),
    ("Ajaccio", "20000"), ("Bastia", "20200"), ("Porto-Vecchio", "20137"), ("Corte", "20250"),
    ("Sète", "34200"), ("Lunel", "34400"), ("Alès", "30100"), ("Uzès", "30700"),
    ("Carpentras", "84200"), ("Cavaillon", "84300"), ("Vienne", "38200"), ("Voiron", "38500"),
    ("Annecy", "74000"), ("Thonon-les-Bains", "74200"), ("Chambéry", "73000"),
    ("Albertville", "73200"), ("Roanne", "42300"), ("Montbrison", "42600"), ("Vichy", "03200"),
    ("Moulins", "03000"), ("Nevers", "58000"), ("Auxerre", "89000"), ("Sens", "89100"),
    ("Beaune", "21200"), ("Chalon-sur-Saône", "71100"), ("Lons-le-Saunier", "39000"),
    ("Pontarlier", "25300"), ("Montbéliard", "25200"), ("Belfort", "90000"), ("Vesoul", "70000"),
    ("Épinal", "88000"), ("Saint-Dié-des-Vosges", "88100"), ("Lunéville", "54300"),
    ("Sarreguemines", "57200"), ("Thionville", "57100"), ("Haguenau", "67500"),
    ("Sélestat", "67600"), ("Colmar", "68000"), ("Guebwiller", "68500"), ("Verdun", "55100"),
    ("Charleville-Mézières", "08000"), ("Sedan", "08200"), ("Épernay", "51200"),
    ("Vitry-le-François", "51300"), ("Saint-Quentin", "02100"), ("Laon", "02000"),
    ("Compiègne", "60200"), ("Beauvais", "60000"), ("Abbeville", "80100"), ("Arras", "62000"),
    ("Lens", "62300"), ("Béthune", "62400"), ("Maubeuge", "59600"), ("Armentières", "59280"),
    ("Hazebrouck", "59190"), ("Dieppe", "76200"), ("Fécamp", "76400"), ("Lisieux", "14100"),
    ("Bayeux", "14400"), ("Vire", "14500"), ("Alençon", "61000"), ("Flers", "61100"),
    ("Granville", "50400"), ("Saint-Lô", "50000"), ("Mayenne", "53100"), ("La Flèche", "72200"),
    ("Vendôme", "41100"), ("Romorantin-Lanthenay", "41200"), ("Montargis", "45200"),
    ("Dreux", "28100"), ("Châteaudun", "28200"), ("Étampes", "91150"), ("Meaux", "77100"),
    ("Provins", "77160"), ("Mantes-la-Jolie", "78200"), ("Argenteuil", "95100"),
    ("Saint-Denis", "93200"), ("L'Haÿ-les-Roses", "94240"), ("Ivry-sur-Seine", "94200"),
    ("Villeneuve-Saint-Georges", "94190"), ("Évry-Courcouronnes", "91000"),
    ("Fort-de-France", "97200"), ("Pointe-à-Pitre", "97110"), ("Saint-Pierre", "97410"),
    ("Cayenne", "97300"), ("Mamoudzou", "97600"), ("Plougastel-Daoulas", "29470"),
    ("Saint-Jean-de-Luz", "64500"), ("Marmande", "47200"), ("Villeneuve-sur-Lot", "47300"),
    ("Cahors", "46000"), ("Figeac", "46100"), ("Moissac", "82200"), ("Albi", "81000"),
    ("Castres", "81100"), ("Mazamet", "81200"), ("Pamiers", "09100"), ("Limoux", "11300"),
    ("Guéret", "23000"), ("Ussel", "19200"), ("Tulle", "19000"), ("Brive-la-Gaillarde", "19100"),
)  # fmt: skip

# Towns of birth abroad, used as "né(e) à ..." only.
BIRTH_ABROAD = (
    "Oran", "Tlemcen", "Sétif", "Casablanca", "Fès", "Sfax", "Dakar", "Bamako", "Abidjan",
    "Porto", "Braga", "Naples", "Palerme", "Cracovie", "Bucarest", "Hô Chi Minh-Ville", "Izmir",
)  # fmt: skip

STREET_TYPES = (
    "rue", "rue", "rue", "avenue", "boulevard", "impasse", "allée", "chemin", "place", "route",
    "quai", "cours", "faubourg", "square", "sentier", "résidence", "voie", "chaussée",
)  # fmt: skip

STREET_NAMES = (
    "des Lilas", "du Moulin", "de la Gare", "des Tilleuls", "du Stade", "de l'Église",
    "des Écoles", "du Général Leclerc", "Jean Jaurès", "Victor Hugo", "de la République",
    "des Acacias", "du Château d'Eau", "des Mimosas", "de Kerbernard", "de Penhoat",
    "du 8 Mai 1945", "du 11 Novembre", "Pasteur", "des Glycines", "du Vieux Port",
    "des Vignes", "de la Fontaine", "du Bourg", "Saint-Exupéry", "des Peupliers",
    "du Lavoir", "des Capucins", "de la Libération", "Aristide Briand", "des Hirondelles",
    "des Coquelicots", "du Pré Vert", "de la Croix Rouge", "Albert Camus", "du Levant",
)  # fmt: skip

EMAIL_DOMAINS = (
    "gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "hotmail.fr",
    "yahoo.fr", "sfr.fr", "outlook.fr", "icloud.com", "neuf.fr", "bbox.fr", "protonmail.com",
)  # fmt: skip

# Hospitals (institutional, never labelled) with their own numbers and addresses.
HOSPITALS = (
    ("CHU de Brest", "chu-brest.fr", "2 avenue Foch, 29200 Brest", "02 98 22 33 33"),
    ("CH de Quimperlé", "ch-quimperle.fr", "20 bis avenue du Général Leclerc, 29300 Quimperlé",
     "02 98 96 60 00"),
    ("CHU Dijon Bourgogne", "chu-dijon.fr", "14 rue Paul Gaffarel, 21000 Dijon",
     "03 80 29 30 31"),
    ("Hospices Civils de Lyon", "chu-lyon.fr", "3 quai des Célestins, 69002 Lyon",
     "08 25 08 25 69"),
    ("CH du Haut-Bugey", "ch-hautbugey.fr", "1 route de Veyziat, 01100 Oyonnax",
     "04 74 73 10 01"),
    ("CHU de Nantes", "chu-nantes.fr", "5 allée de l'Île Gloriette, 44093 Nantes",
     "02 40 08 33 33"),
    ("CH de Sarreguemines", "ch-sarreguemines.fr", "2 rue René François Jolly, 57200 Sarreguemines",
     "03 87 27 98 00"),
    ("CHU de Toulouse", "chu-toulouse.fr", "2 rue Viguerie, 31059 Toulouse", "05 61 77 22 33"),
    ("CH de Périgueux", "ch-perigueux.fr", "80 avenue Georges Pompidou, 24000 Périgueux",
     "05 53 45 25 25"),
    ("CHU de Martinique", "chu-martinique.fr", "CS 90632, 97261 Fort-de-France",
     "05 96 55 20 00"),
)  # fmt: skip

SERVICES = (
    "cardiologie", "neurologie", "pneumologie", "gériatrie", "médecine interne", "néphrologie",
    "gastro-entérologie", "rhumatologie", "chirurgie orthopédique", "chirurgie digestive",
    "urologie", "oncologie médicale", "endocrinologie", "maladies infectieuses", "SSR",
    "soins palliatifs", "urgences", "réanimation médicale", "hématologie", "dermatologie",
)  # fmt: skip

ENGLISH_FIRST = ("Emily", "Oliver", "Charlotte", "George", "Amelia", "Harry", "Olivia", "Jack",
                 "Grace", "Thomas", "Megan", "William")  # fmt: skip
ENGLISH_SURNAMES = ("Clarke", "Thompson", "Hughes", "Walker", "Robinson", "Wright", "Edwards",
                    "Fitzgerald", "O'Brien", "MacLeod", "Patel", "Okafor")  # fmt: skip

RELATIVES = (
    ("son époux", True), ("son épouse", False), ("son mari", True), ("sa femme", False),
    ("son fils", True), ("sa fille", False), ("son frère", True), ("sa sœur", False),
    ("son neveu", True), ("sa nièce", False), ("son petit-fils", True), ("sa petite-fille", False),
    ("son voisin", True), ("sa voisine", False), ("son compagnon", True), ("sa compagne", False),
)  # fmt: skip

REASONS = (
    "décompensation cardiaque globale", "pneumopathie franche lobaire aiguë",
    "chute avec fracture du col fémoral", "AVC ischémique sylvien gauche",
    "pyélonéphrite aiguë", "exacerbation de BPCO", "hyponatrémie symptomatique",
    "syndrome confusionnel", "fibrillation atriale rapide", "altération de l’état général",
    "hémorragie digestive haute", "cholécystite aiguë lithiasique", "embolie pulmonaire",
    "crise d’épilepsie inaugurale", "insuffisance rénale aiguë fonctionnelle",
)  # fmt: skip
