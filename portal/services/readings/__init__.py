"""Readings a patient takes at home: manual entry, device imports, goals and remote-monitoring
alerts. ``units`` knows the measures; ``entry`` stores readings (one path for every source)."""
