"""`sotto bench`: a load generator for a Sotto relay, and the bookkeeping of its figures."""
