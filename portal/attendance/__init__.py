"""Attendance: timetabled sessions, the register, absences, lateness and early departures
(SPEC §6)."""
