"""Words for step kinds and statuses, in the person's language."""

from flask_babel import lazy_gettext as _l

from portal.pathway.models import StepKind, StepStatus

KIND_LABELS = {
    StepKind.ORIENTATION: _l("Orientation"),
    StepKind.DIAGNOSTIC: _l("Bilan"),
    StepKind.CONTRACT: _l("Contrat d'engagement"),
    StepKind.APPOINTMENT: _l("Rendez-vous"),
    StepKind.IMMERSION: _l("Immersion en entreprise"),
    StepKind.TRAINING: _l("Formation"),
    StepKind.VOLUNTEERING: _l("Bénévolat"),
    StepKind.EMPLOYMENT: _l("Emploi"),
    StepKind.SOCIAL_SUPPORT: _l("Accompagnement social"),
    StepKind.OTHER: _l("Étape"),
}

# "Where you are now", said as a person would: "Vous suivez une formation : …".
CURRENT_PHRASES = {
    StepKind.ORIENTATION: _l("Votre orientation est en cours : %(title)s"),
    StepKind.DIAGNOSTIC: _l("Vous faites un bilan : %(title)s"),
    StepKind.CONTRACT: _l("Votre contrat d'engagement est en cours : %(title)s"),
    StepKind.APPOINTMENT: _l("Vous avez un rendez-vous : %(title)s"),
    StepKind.IMMERSION: _l("Vous faites une immersion en entreprise : %(title)s"),
    StepKind.TRAINING: _l("Vous suivez une formation : %(title)s"),
    StepKind.VOLUNTEERING: _l("Vous faites du bénévolat : %(title)s"),
    StepKind.EMPLOYMENT: _l("Vous travaillez : %(title)s"),
    StepKind.SOCIAL_SUPPORT: _l("Vous avez un accompagnement : %(title)s"),
    StepKind.OTHER: _l("En cours : %(title)s"),
}

# Said once an activity has started: encouragement, never a countdown.
STARTED_PHRASES = {
    StepKind.IMMERSION: _l("Vous avez commencé une immersion en entreprise : bravo."),
    StepKind.TRAINING: _l("Vous avez commencé une formation : bravo."),
    StepKind.VOLUNTEERING: _l("Vous avez commencé du bénévolat : bravo."),
    StepKind.EMPLOYMENT: _l("Vous avez commencé un emploi : bravo."),
}

STATUS_LABELS = {
    StepStatus.PLANNED: _l("Prévu"),
    StepStatus.IN_PROGRESS: _l("En cours"),
    StepStatus.DONE: _l("Terminé"),
    StepStatus.CANCELLED: _l("Annulé"),
}
