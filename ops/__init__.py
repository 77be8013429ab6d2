"""The operator's side of Sotto: site-wide traffic totals and expiry of idle records."""
