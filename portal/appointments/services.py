"""The appointments feature's use cases, one module each; this module gathers them so
that pages and the API say `appointments.book(...)` whatever module holds it.

slots.py      publishing, pushing, withdrawing and listing slots
booking.py    booking, moving and cancelling by the beneficiary
status.py     confirming, declining, cancelling, recording what happened
lists.py      what counsellors and the back office look up
steps.py      the appointment's step on the pathway
notices.py    the event and the SMS each change sends
calendar.py   the .ics file
"""

from portal.appointments.booking import (
    BOOKING_HORIZON,
    BOOKING_LEAD,
    CONFIRMED_BY_RULE,
    BookableDays,
    book,
    bookable_days,
    bookable_slot,
    bookable_slots,
    cancel_by_beneficiary,
    change_deadline,
    clashing_appointment,
    confirms_at_once,
    fitting_purposes,
    is_oriented,
    may_change,
    next_appointment,
    own_appointment,
    referent_for,
    reschedule,
    upcoming,
)
from portal.appointments.calendar import calendar_file
from portal.appointments.errors import AppointmentError
from portal.appointments.lists import (
    agenda,
    appointments_of_person,
    list_for_organisation,
    organisation_appointment,
)
from portal.appointments.notices import NO_LONGER_STANDS
from portal.appointments.slots import (
    SlotState,
    SlotUpsert,
    check_not_a_holiday,
    live_appointment,
    local_start,
    own_slot,
    publish_slots,
    slot_by_external_id,
    slot_state,
    slots_with_bookings,
    upsert_slot,
    withdraw_slot,
)
from portal.appointments.status import (
    OPEN,
    OUTCOMES,
    cancel,
    cancel_future_appointments_of_organisation,
    set_status,
)
from portal.appointments.steps import move_step, sync_step

__all__ = [
    "BOOKING_HORIZON",
    "BOOKING_LEAD",
    "CONFIRMED_BY_RULE",
    "NO_LONGER_STANDS",
    "OPEN",
    "OUTCOMES",
    "AppointmentError",
    "BookableDays",
    "SlotState",
    "SlotUpsert",
    "agenda",
    "appointments_of_person",
    "book",
    "bookable_days",
    "bookable_slot",
    "bookable_slots",
    "calendar_file",
    "cancel",
    "cancel_by_beneficiary",
    "cancel_future_appointments_of_organisation",
    "change_deadline",
    "clashing_appointment",
    "confirms_at_once",
    "check_not_a_holiday",
    "fitting_purposes",
    "is_oriented",
    "list_for_organisation",
    "live_appointment",
    "local_start",
    "may_change",
    "move_step",
    "next_appointment",
    "organisation_appointment",
    "own_appointment",
    "own_slot",
    "publish_slots",
    "referent_for",
    "reschedule",
    "set_status",
    "slot_by_external_id",
    "slot_state",
    "slots_with_bookings",
    "sync_step",
    "upcoming",
    "upsert_slot",
    "withdraw_slot",
]
