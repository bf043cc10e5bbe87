"""The console's languages: French (the default) and English, chosen from ``Accept-Language``.

A small message catalogue, no gettext toolchain: each key has its French and English text; a
key missing from a language falls back to French, then to the key itself (a test checks that
both languages have every key). Numbers and amounts follow each language's conventions.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

LANGUAGES = ("fr", "en")
DEFAULT = "fr"

Translator = Callable[..., str]

MESSAGES: dict[str, tuple[str, str]] = {
    # navigation and pages
    "nav.skip": ("Aller au contenu", "Skip to content"),
    "nav.label": ("Navigation principale", "Main navigation"),
    "nav.sign_out": ("Se déconnecter", "Sign out"),
    "page.overview": ("Vue d'ensemble", "Overview"),
    "page.organisation": ("Services, utilisateurs et clés", "Departments, users and keys"),
    "page.quotas": ("Quotas et alertes", "Quotas and alerts"),
    "page.models": ("Modèles", "Models"),
    "page.policy": ("Politique", "Policy"),
    "page.ledger": ("Journal", "Ledger"),
    "page.finance": ("Finances", "Finance"),
    "page.me": ("Ma consommation", "My usage"),
    "page.audit": ("Audit", "Audit"),
    "page.register": ("Registre des usages de l'IA", "Register of AI uses"),
    "footer.timezone": (
        "Dates et heures dans le fuseau de l'établissement : {zone}",
        "Dates and times in the organisation's time zone: {zone}",
    ),
    "period.range": ("Du {first} au {last} ({zone})", "From {first} to {last} ({zone})"),
    # roles, levels, classes
    "role.admin": ("administrateur", "administrator"),
    "role.finance": ("finances", "finance"),
    "role.department_admin": ("responsable de service", "department admin"),
    "role.member": ("utilisateur", "user"),
    "level.organisation": ("Établissement", "Organisation"),
    "level.department": ("Service", "Department"),
    "level.team": ("Équipe", "Team"),
    "level.use_case": ("Cas d'usage", "Use case"),
    "level.user": ("Utilisateur", "User"),
    "level.key": ("Clé", "Key"),
    "approval.approved": ("approuvé", "approved"),
    "approval.pilot": ("pilote", "pilot"),
    "approval.restricted": ("restreint", "restricted"),
    "approval.requested": ("demandé", "requested"),
    "approval.rejected": ("rejeté", "rejected"),
    "hosting.on_premise": ("sur site", "on premise"),
    "hosting.hds_certified": ("hébergeur HDS", "HDS-certified host"),
    "hosting.eu_cloud": ("cloud UE", "EU cloud"),
    "hosting.non_eu": ("hors UE", "outside the EU"),
    "dim.department": ("Service", "Department"),
    "dim.use_case": ("Cas d'usage", "Use case"),
    "dim.user": ("Utilisateur", "User"),
    "dim.model": ("Modèle", "Model"),
    "dim.provider": ("Fournisseur", "Provider"),
    "dim.deployment": ("Déploiement", "Deployment"),
    "dim.hosting_class": ("Hébergement", "Hosting"),
    "dim.day": ("Jour", "Day"),
    "dim.month": ("Mois", "Month"),
    # table columns and fields
    "col.department": ("Service", "Department"),
    "col.user": ("Utilisateur", "User"),
    "col.model": ("Modèle", "Model"),
    "col.spent": ("Dépensé", "Spent"),
    "col.budget": ("Budget", "Budget"),
    "col.used": ("Consommé", "Used"),
    "col.when": ("Quand", "When"),
    "col.subject": ("Objet", "Subject"),
    "col.threshold": ("Seuil", "Threshold"),
    "col.period": ("Période", "Period"),
    "col.requests": ("Requêtes", "Requests"),
    "col.tokens": ("Jetons", "Tokens"),
    "col.cost": ("Coût", "Cost"),
    "col.status": ("Statut", "Status"),
    "col.class": ("Classe de données", "Data class"),
    "col.decision": ("Décision", "Decision"),
    "field.department_id": ("Identifiant du service", "Department identifier"),
    "field.display_name": ("Nom affiché", "Display name"),
    "field.default_class": ("Classe de données par défaut", "Default data class"),
    "field.username": ("Identifiant", "Username"),
    "field.role": ("Rôle", "Role"),
    "field.key_name": ("Nom de la clé", "Key name"),
    "field.use_case": ("Cas d'usage", "Use case"),
    "field.from": ("Du", "From"),
    "field.to": ("Au", "To"),
    "field.month": ("Mois", "Month"),
    "common.nothing": ("Rien à afficher.", "Nothing to show."),
    "common.create": ("Créer", "Create"),
    "common.save": ("Enregistrer", "Save"),
    "common.filter": ("Filtrer", "Filter"),
    "common.show": ("Afficher", "Show"),
    "common.csv": ("Télécharger (CSV)", "Download (CSV)"),
    "common.total": ("Total", "Total"),
    "common.print": ("Imprimer", "Print"),
    "common.back": ("Retour", "Back"),
    # sign-in
    "sign_in.title": ("Connexion à la console Hygie", "Sign in to the Hygie console"),
    "sign_in.intro": (
        "Ouvrez le lien de connexion à usage unique que vous a remis un administrateur "
        "(commande « hygie console link »).",
        "Open the single-use sign-in link an administrator gave you "
        "(command “hygie console link”).",
    ),
    "sign_in.break_glass": ("Accès de secours", "Break-glass access"),
    "sign_in.break_glass_help": (
        "Réservé à l'exploitant : le jeton d'administration donne tous les droits et chaque "
        "usage est journalisé.",
        "For the operator only: the admin token grants every right and each use is logged.",
    ),
    "sign_in.token": ("Jeton d'administration", "Admin token"),
    "sign_in.submit": ("Se connecter", "Sign in"),
    "sign_in.refused": ("Jeton refusé.", "Token refused."),
    "sign_in.link_intro": (
        "Ce lien vous connecte une seule fois. Continuer ?",
        "This link signs you in once. Continue?",
    ),
    "sign_in.continue": ("Continuer", "Continue"),
    "sign_in.link_refused": (
        "Ce lien n'est pas valable : il a expiré, a déjà servi ou a été modifié.",
        "This link is not valid: it has expired, was already used or was altered.",
    ),
    "sign_in.back": ("Retour à la connexion", "Back to sign-in"),
    "sign_in.oidc_heading": ("Compte de l'établissement", "Hospital account"),
    "sign_in.oidc_help": (
        "Connectez-vous avec l'identifiant et le mot de passe habituels de l'établissement.",
        "Sign in with your usual hospital username and password.",
    ),
    "sign_in.oidc_button": ("Se connecter avec {label}", "Sign in with {label}"),
    "sign_in.signed_out": ("Vous êtes déconnecté de Hygie.", "You are signed out of Hygie."),
    "sign_in.end_provider_session": (
        "Fermer aussi votre session {label} (poste partagé)",
        "Also end your {label} session (shared computer)",
    ),
    "sign_in.oidc_state": (
        "Cette connexion a expiré, a déjà servi ou a été commencée dans un autre navigateur. "
        "Recommencez depuis la page de connexion.",
        "This sign-in has expired, was already used or was started in another browser. "
        "Start again from the sign-in page.",
    ),
    "sign_in.oidc_denied": (
        "La connexion a été annulée ou refusée chez le fournisseur d'identité.",
        "The sign-in was cancelled or refused at the identity provider.",
    ),
    "sign_in.oidc_failed": (
        "Le fournisseur d'identité n'a pas confirmé la connexion. Recommencez.",
        "The identity provider did not confirm the sign-in. Start again.",
    ),
    "sign_in.oidc_token": (
        "La réponse du fournisseur d'identité n'est pas valable ; la connexion est refusée.",
        "The identity provider's answer is not valid; the sign-in is refused.",
    ),
    "sign_in.oidc_no_department": (
        "Votre compte n'indique aucun service valable : demandez à l'équipe d'identité "
        "d'en renseigner un.",
        "Your account names no valid department: ask the identity team to set one.",
    ),
    "sign_in.oidc_unavailable": (
        "Le fournisseur d'identité ne répond pas. Réessayez dans quelques minutes.",
        "The identity provider is not answering. Try again in a few minutes.",
    ),
    "sign_in.oidc_exchange": (
        "Le fournisseur d'identité a refusé de confirmer la connexion (code expiré ou déjà "
        "utilisé, ou client mal configuré). Recommencez.",
        "The identity provider refused to confirm the sign-in (code expired or already used, "
        "or client misconfigured). Start again.",
    ),
    # overview
    "overview.spend_vs_budget": (
        "Dépenses du mois et budget par service",
        "This month's spend against budget per department",
    ),
    "overview.where": ("Où partent les requêtes", "Where requests go"),
    "overview.on_premise": ("Sur site", "On premise"),
    "overview.external": ("Externe", "External"),
    "overview.of_requests": ("sur {n} requêtes", "of {n} requests"),
    "overview.totals": (
        "{requests} requêtes, {tokens} jetons, {cost}",
        "{requests} requests, {tokens} tokens, {cost}",
    ),
    "overview.per_day": ("Par jour", "Per day"),
    "overview.requests_per_day": ("Requêtes par jour", "Requests per day"),
    "overview.tokens_per_day": ("Jetons par jour", "Tokens per day"),
    "overview.alerts": ("Alertes budgétaires", "Budget alerts"),
    "overview.no_alerts": ("Aucune alerte.", "No alert."),
    # organisation
    "organisation.tree": ("Organisation", "Organisation"),
    "organisation.default_class": ("classe par défaut", "default class"),
    "organisation.new_department": ("Nouveau service", "New department"),
    "organisation.new_user": ("Nouvel utilisateur", "New user"),
    "organisation.new_key": ("Nouvelle clé d'API", "New API key"),
    "keys.new_title": ("Nouvelle clé créée", "New key created"),
    "keys.new_once": (
        "Copiez-la maintenant : elle ne sera plus jamais affichée.",
        "Copy it now: it will never be shown again.",
    ),
    "keys.secret": ("Clé", "Key"),
    "keys.copy": ("Copier", "Copy"),
    "keys.copied": ("Copiée.", "Copied."),
    "keys.revoke": ("Révoquer", "Revoke"),
    "done.department": ("Service créé.", "Department created."),
    "done.user": ("Utilisateur créé.", "User created."),
    "done.revoked": ("Clé révoquée.", "Key revoked."),
    "done.saved": ("Enregistré.", "Saved."),
    # quotas
    "quotas.in_force": ("Limites en vigueur", "Limits in force"),
    "quotas.none": ("Aucune limite configurée.", "No limit configured."),
    "quotas.held": ("Réservé (en cours)", "Held (in flight)"),
    "quotas.remaining": ("Reste", "Remaining"),
    "quotas.rates": ("Débits", "Rates"),
    "quotas.rpm": ("req./min", "req/min"),
    "quotas.tpm": ("jetons/min", "tokens/min"),
    "quotas.set": ("Fixer un budget ou un débit", "Set a budget or a rate limit"),
    "quotas.level": ("Niveau", "Level"),
    "quotas.user_if": ("Utilisateur (niveau utilisateur)", "User (user level)"),
    "quotas.budget_month": ("Budget mensuel (€)", "Monthly budget (€)"),
    "quotas.rpm_label": ("Requêtes par minute", "Requests per minute"),
    "quotas.tpm_label": ("Jetons par minute", "Tokens per minute"),
    "quotas.preview": ("Aperçu", "Preview"),
    "quotas.preview_of": (
        "Ce que change ce budget pour {subject}",
        "What this budget means for {subject}",
    ),
    "quotas.spent_so_far": ("Dépensé ce mois-ci", "Spent this month"),
    "quotas.forecast": ("Prévision en fin de mois", "Forecast at month end"),
    "quotas.new_budget": ("Nouveau budget", "New budget"),
    "quotas.consumed_pct": ("{pct} % déjà consommés", "{pct} % already used"),
    "quotas.forecast_pct": ("{pct} % prévus", "{pct} % forecast"),
    "quotas.refused_now": (
        "Ce budget est déjà atteint : les prochaines requêtes seraient refusées.",
        "This budget is already reached: the next requests would be refused.",
    ),
    # models
    "models.owner": ("Responsable", "Owner"),
    "models.docs": ("Documentation", "Documentation"),
    "models.price": (
        "Prix : {input} (entrée) / {output} (sortie) {currency} par million de jetons",
        "Price: {input} (input) / {output} (output) {currency} per million tokens",
    ),
    "models.deployment": ("Déploiement", "Deployment"),
    "models.hosting": ("Hébergement", "Hosting"),
    "models.cleared": ("Données autorisées", "Cleared for"),
    "models.region": ("Région", "Region"),
    "models.replicas": ("Réplicas (requêtes en cours)", "Replicas (requests in flight)"),
    "models.up": ("disponible", "up"),
    "models.down": ("indisponible", "down"),
    "models.card": ("Fiche du modèle", "Model card"),
    "models.no_card": ("Pas encore de fiche pour ce modèle.", "No card for this model yet."),
    "models.provenance": ("Provenance", "Provenance"),
    "models.version": ("version", "version"),
    "models.licence": ("Licence", "Licence"),
    "models.runs_at": ("Où il tourne", "Where it runs"),
    "models.intended_use": ("Usage prévu", "Intended use"),
    "models.limitations": ("Limites connues", "Known limitations"),
    "models.evaluation": ("Évaluation", "Evaluation"),
    "models.history": ("Historique de l'approbation", "Approval history"),
    "models.catalogue_approval": ("Selon le catalogue : {status}", "From the catalogue: {status}"),
    "models.reason": ("Motif", "Reason"),
    "models.request": ("Demander l'approbation", "Request approval"),
    "models.approve": ("Approuver", "Approve"),
    "models.reject": ("Rejeter", "Reject"),
    "models.step_done": ("Étape d'approbation enregistrée.", "Approval step recorded."),
    # register of AI uses
    "register.about": (
        "Chaque usage de l'IA déclaré, avec son responsable, ses données et son statut.",
        "Every declared use of AI, with who is responsible, its data and its status.",
    ),
    "register.name": ("Usage", "Use case"),
    "register.purpose": ("Finalité", "Purpose"),
    "register.responsible": ("Responsable", "Responsible"),
    "register.population": ("Personnes concernées", "People concerned"),
    "register.legal_basis": ("Base légale", "Legal basis"),
    "register.data_classes": ("Classes de données", "Data classes"),
    "register.dpia": ("AIPD", "DPIA"),
    "register.dpia_date": ("Date de l'AIPD", "DPIA date"),
    "register.ai_act": ("Catégorie AI Act", "AI Act category"),
    "register.ai_act_reason": ("Justification de la catégorie", "Why this category"),
    "register.models": ("Modèles permis", "Models allowed"),
    "register.models_hint": (
        "Séparés par des virgules ; vide : tout modèle approuvé",
        "Comma-separated; empty: any approved model",
    ),
    "register.documentation": ("Documentation (adresse)", "Documentation (address)"),
    "register.edit": ("Modifier « {name} »", "Edit “{name}”"),
    "register.change_status": ("Nouveau statut", "New status"),
    "register.apply_status": ("Changer le statut", "Change the status"),
    "register.new": ("Déclarer un usage", "Declare a use case"),
    "register.create": ("Déclarer", "Declare"),
    "register.patient_page": ("Page pour les patients", "Page for patients"),
    "register.published": ("Une version est publiée.", "A version is published."),
    "register.not_published": ("Pas encore publiée.", "Not published yet."),
    "register.preview": ("Voir le brouillon", "Preview the draft"),
    "register.publish": ("Publier le brouillon", "Publish the draft"),
    "register.done.created": ("Usage déclaré.", "Use case declared."),
    "register.done.saved": ("Usage enregistré.", "Use case saved."),
    "register.done.status": ("Statut changé.", "Status changed."),
    "register.done.published": ("Page pour les patients publiée.", "Patient page published."),
    "lifecycle.proposed": ("proposé", "proposed"),
    "lifecycle.pilot": ("pilote", "pilot"),
    "lifecycle.production": ("en production", "in production"),
    "lifecycle.retired": ("retiré", "retired"),
    "dpia.not_started": ("non commencée", "not started"),
    "dpia.in_progress": ("en cours", "in progress"),
    "dpia.done": ("faite", "done"),
    "dpia.not_required": ("non requise", "not required"),
    "ai_act.unassessed": ("non évaluée", "unassessed"),
    "ai_act.minimal": ("risque minimal", "minimal risk"),
    "ai_act.limited": ("risque limité", "limited risk"),
    "ai_act.high_risk": ("haut risque", "high risk"),
    # policy
    "policy.in_force": (
        "Politique « {name} », version {version}",
        "Policy “{name}”, version {version}",
    ),
    "policy.source": ("Fichier", "File"),
    "policy.disabled": ("désactivée", "disabled"),
    "policy.explain": ("Expliquer une requête", "Explain a request"),
    "policy.explain_help": (
        "Collez une requête (JSON OpenAI ou texte libre) : la console montre ce que la "
        "politique en ferait. Rien de ce qui est collé n'est conservé ni journalisé.",
        "Paste a request (OpenAI JSON or plain text): the console shows what the policy "
        "would do with it. Nothing pasted is kept or logged.",
    ),
    "policy.request": ("Requête", "Request"),
    "policy.model": ("Modèle demandé", "Requested model"),
    "policy.declared": ("Classe déclarée (facultatif)", "Declared class (optional)"),
    "policy.explain_submit": ("Expliquer", "Explain"),
    "policy.decision": ("Décision", "Decision"),
    "policy.data_class": ("Classe de données", "Data class"),
    "policy.identifiers": ("Identifiants détectés", "Identifiers found"),
    "policy.none_found": ("aucun", "none"),
    "policy.rule": ("Règle décisive", "Deciding rule"),
    "policy.where": ("Destinations possibles", "Where it could go"),
    "policy.nowhere": ("nulle part (refusée)", "nowhere (refused)"),
    # ledger
    "ledger.no_content": (
        "Le journal ne contient aucun contenu de requête ni de réponse.",
        "The ledger holds no request or answer content.",
    ),
    "ledger.ok": ("réussie", "succeeded"),
    "ledger.error": ("en erreur", "failed"),
    "ledger.shown": ("{n} lignes affichées (au plus {limit})", "{n} rows shown (at most {limit})"),
    "ledger.status_hint": ("Code HTTP, par exemple 200 ou 429", "HTTP status, e.g. 200 or 429"),
    "ledger.pages": ("Pages du journal", "Ledger pages"),
    "ledger.first": ("Première page", "First page"),
    "ledger.previous": ("« Page précédente", "« Previous page"),
    "ledger.next": ("Page suivante »", "Next page »"),
    # finance
    "finance.group_by": ("Regrouper par", "Group by"),
    "finance.usage": ("Consommation et coût", "Usage and cost"),
    "finance.cost_chart": ("Coût par groupe", "Cost per group"),
    "finance.active_users": ("Utilisateurs actifs", "Active users"),
    "finance.cost_covers": (
        "Coût par requête inscrit au journal ; la régularisation de capacité de fin de mois "
        "figure dans les relevés et l'export FOCUS.",
        "Per-request cost recorded in the ledger; the month-end capacity true-up is in the "
        "statements and the FOCUS export.",
    ),
    "finance.month_files": (
        "Relevés de refacturation et export FOCUS",
        "Chargeback statements and FOCUS export",
    ),
    "finance.view_statement": ("Voir le relevé", "View the statement"),
    "finance.focus": ("Télécharger l'export FOCUS du mois", "Download the month's FOCUS export"),
    "finance.statement_title": (
        "Relevé {department} — {month}",
        "Statement {department} — {month}",
    ),
    "finance.status.provisional": (
        "Provisoire (mois non clôturé)",
        "Provisional (month not closed)",
    ),
    "finance.status.closed": ("Clôturé", "Closed"),
    "finance.number": ("N°", "No."),
    "finance.download_html": ("Télécharger (HTML)", "Download (HTML)"),
    "finance.line": ("Ligne", "Line"),
    "finance.quantity": ("Quantité", "Quantity"),
    "finance.unit_price": ("Prix unitaire", "Unit price"),
    # my usage
    "me.this_month": ("Ce mois-ci", "This month"),
    "me.limits": ("Mes limites", "My limits"),
    "me.no_limits": ("Aucune limite ne s'applique.", "No limit applies."),
    "me.keys": ("Mes clés", "My keys"),
    "me.no_keys": ("Aucune clé active.", "No active key."),
    "me.models": ("Mes modèles", "My models"),
    "me.break_glass": (
        "L'accès de secours n'est lié à aucun utilisateur.",
        "Break-glass access belongs to no user.",
    ),
    # audit
    "audit.about": (
        "Chaque modification (API d'administration, ligne de commande, console) est inscrite "
        "avec son auteur, sa date et son motif, chaînée à la précédente par une empreinte.",
        "Every change (admin API, command line, console) is written with who made it, when and "
        "why, chained to the previous one by a hash.",
    ),
    "audit.chain": ("Chaîne d'audit", "Audit chain"),
    "audit.head": ("Tête de chaîne : entrée {seq},", "Chain head: entry {seq},"),
    "audit.verify": ("Vérifier la chaîne", "Verify the chain"),
    "audit.chain_ok": (
        "La chaîne est intacte ({n} entrées vérifiées).",
        "The chain holds ({n} entries checked).",
    ),
    "audit.chain_broken": (
        "Chaîne rompue à l'entrée {seq} ({kind}) :",
        "The chain is broken at entry {seq} ({kind}):",
    ),
    "audit.since": ("Depuis le", "Since"),
    "audit.actor": ("Auteur", "Actor"),
    "audit.action": ("Action", "Action"),
    "audit.action_hint": (
        "Une action (key.revoke) ou une famille (key.*)",
        "An action (key.revoke) or a family (key.*)",
    ),
    "audit.reason": ("Motif", "Reason"),
    "audit.detail": ("Détail", "Detail"),
    "audit.before": ("avant :", "before:"),
    "audit.after": ("après :", "after:"),
    "audit.pages": ("Pages de l'audit", "Audit pages"),
    "audit.newest": ("Les plus récentes", "Newest"),
    "audit.older": ("Plus anciennes »", "Older »"),
    # errors
    "error.title": ("Impossible", "Not possible"),
    "error.home": ("Retour à l'accueil", "Back to the start"),
    "error.forbidden": ("Votre rôle ne permet pas cette action.", "Your role does not allow this."),
    "error.csrf": (
        "Formulaire expiré ou d'origine inconnue : rechargez la page.",
        "Form expired or of unknown origin: reload the page.",
    ),
    "error.not_found": ("Introuvable.", "Not found."),
    "error.reason_needed": ("Un rejet doit être motivé.", "A rejection needs a reason."),
    "error.exists": ("Ce nom existe déjà.", "This name already exists."),
    "error.invalid_input": ("Saisie invalide.", "Invalid input."),
    "error.too_long": ("Saisie trop longue.", "Input too long."),
    "error.too_large": ("Formulaire trop volumineux.", "Form too large."),
    "error.form_type": ("Type de formulaire non pris en charge.", "Unsupported form type."),
    "error.bad_form": ("Formulaire illisible.", "Unreadable form."),
    "error.bad_dates": ("Dates invalides.", "Invalid dates."),
    "error.no_month": (
        "Pas de relevé pour ce mois (pas commencé, ou pas de modèle de coût).",
        "No statement for this month (not started, or no cost model).",
    ),
    "error.roles_admin_only": (
        "Seul un administrateur peut attribuer un rôle.",
        "Only an administrator can grant a role.",
    ),
    "error.plain_users_only": (
        "Un responsable de service ne gère que les utilisateurs simples.",
        "A department admin manages plain users only.",
    ),
    "error.refused": ("Refusé.", "Refused."),
    "error.counters_unavailable": (
        "Les compteurs de quotas sont indisponibles ; réessayez.",
        "Quota counters are unavailable; retry.",
    ),
    "error.explain_body": (
        "La requête doit être un objet JSON.",
        "The request must be a JSON object.",
    ),
    "error.unknown_model": ("Modèle inconnu.", "Unknown model."),
}


def pick_language(accept_language: str | None) -> str:
    """The supported language the browser prefers most (``q`` weights), French otherwise."""
    best, best_q = DEFAULT, -1.0
    for part in (accept_language or "")[:500].split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best if best_q > 0 else DEFAULT


def translate(lang: str, key: str, **values: object) -> str:
    """The text of ``key`` in ``lang`` with ``values`` filled in."""
    texts = MESSAGES.get(key)
    if texts is None:
        return key
    text = texts[1] if lang == "en" else texts[0]
    return text.format(**values) if values else text


def translator(lang: str) -> Translator:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return t


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def number(value: object, lang: str = DEFAULT) -> str:
    """An integer with the language's thousands separator (narrow no-break space in French)."""
    amount = _decimal(value)
    if amount is None:
        return str(value)
    text = f"{int(amount):,}"
    return text.replace(",", "\u202f") if lang == "fr" else text


def money(value: object, lang: str = DEFAULT) -> str:
    """Euros rounded half-even to the cent: ``1 234,56 €`` or ``€1,234.56``."""
    amount = _decimal(value)
    if amount is None:
        return str(value)
    text = f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,.2f}"
    if lang == "fr":
        return text.replace(",", "\u202f").replace(".", ",") + "\u00a0€"
    return "€" + text
