"""Words for slot modes, purposes and appointment statuses, in the person's language."""

from flask_babel import lazy_gettext as _l

from portal.appointments.models import AppointmentStatus, SlotMode, SlotPurpose

MODE_LABELS = {
    SlotMode.IN_PERSON: _l("Sur place"),
    SlotMode.PHONE: _l("Par téléphone"),
    SlotMode.VIDEO: _l("En vidéo"),
}

PURPOSE_LABELS = {
    SlotPurpose.ORIENTATION: _l("Premier rendez-vous pour choisir votre accompagnement"),
    SlotPurpose.FOLLOW_UP: _l("Rendez-vous de suivi"),
    SlotPurpose.CONTRACT: _l("Rendez-vous pour votre contrat d'engagement"),
    SlotPurpose.OTHER: _l("Rendez-vous"),
}

# The titles over a day's slots on the booking page, one per purpose.
PURPOSE_GROUP_TITLES = {
    SlotPurpose.ORIENTATION: _l("Premier rendez-vous"),
    SlotPurpose.FOLLOW_UP: _l("Rendez-vous de suivi"),
    SlotPurpose.CONTRACT: _l("Contrat d'engagement"),
    SlotPurpose.OTHER: _l("Réunion d'information"),
}

STATUS_LABELS = {
    AppointmentStatus.REQUESTED: _l("En attente de confirmation"),
    AppointmentStatus.CONFIRMED: _l("Confirmé"),
    AppointmentStatus.DECLINED: _l("Refusé"),
    AppointmentStatus.CANCELLED: _l("Annulé"),
    AppointmentStatus.ATTENDED: _l("Présence"),
    AppointmentStatus.NO_SHOW: _l("Absence sans prévenir"),
    AppointmentStatus.EXCUSED: _l("Absence excusée"),
}
