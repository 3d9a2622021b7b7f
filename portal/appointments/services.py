"""The appointments feature's use cases, one module each; this module gathers them so
that pages and the API say `appointments.book(...)` whatever module holds it.

slots.py      publishing, pushing, withdrawing and listing slots
booking.py    booking, moving and cancelling by the beneficiary
status.py     confirming, declining, cancelling, recording what happened
lists.py      what counsellors and the back office look up
steps.py      the appointment's step on the pathway
notices.py    the event and the SMS each change sends
calendar.py   the .ics file
waitlist.py   "tell me if an earlier time frees up": joining, offers by SMS, taking one
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
    booked_already,
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
    shows_video_link,
    upcoming,
)
from portal.appointments.calendar import calendar_file
from portal.appointments.errors import AppointmentError
from portal.appointments.lists import (
    agenda,
    appointments_of_person,
    list_for_organisation,
    organisation_appointment,
    session_attendees,
)
from portal.appointments.notices import NO_LONGER_STANDS
from portal.appointments.slots import (
    SlotState,
    SlotUpsert,
    check_not_a_holiday,
    live_appointments,
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
    may_record_outcome,
    set_status,
)
from portal.appointments.steps import move_step, sync_step
from portal.appointments.waitlist import (
    join_waitlist,
    leave_waitlist,
    moved_here,
    offer_state,
    own_offer,
    take_offer,
    waitlist_state,
)

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
    "booked_already",
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
    "join_waitlist",
    "leave_waitlist",
    "list_for_organisation",
    "live_appointments",
    "local_start",
    "may_change",
    "may_record_outcome",
    "move_step",
    "moved_here",
    "next_appointment",
    "offer_state",
    "organisation_appointment",
    "own_appointment",
    "own_offer",
    "own_slot",
    "publish_slots",
    "referent_for",
    "reschedule",
    "session_attendees",
    "shows_video_link",
    "set_status",
    "slot_by_external_id",
    "slot_state",
    "slots_with_bookings",
    "sync_step",
    "take_offer",
    "upcoming",
    "upsert_slot",
    "waitlist_state",
    "withdraw_slot",
]
