"""Scheduling: provider templates -> open slots -> bookings, with the waitlist, check-in,
reminders, calendar files and video links around them. Import the submodule you need."""
