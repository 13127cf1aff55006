"""Services: the portal's rules. Each takes ``*, session`` and, for health data, the acting user."""
