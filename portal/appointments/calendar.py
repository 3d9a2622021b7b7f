"""A calendar file for the phone: the appointment with an alarm an hour before."""

from datetime import timedelta

from portal.appointments.models import Appointment
from portal.core.clock import utcnow


def calendar_file(appointment: Appointment, summary: str, reminder: str) -> bytes:
    """An .ics with the place and an alarm an hour before, for the phone's calendar."""
    from icalendar import Alarm, Calendar, Event

    slot = appointment.slot
    calendar = Calendar()
    calendar.add("prodid", "-//Portail SPI//rendez-vous//FR")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@portail-spi")
    event.add("dtstamp", utcnow())
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    event.add("summary", summary)
    if slot.location:
        event.add("location", slot.location)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", reminder)
    alarm.add("trigger", timedelta(hours=-1))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
