"""Who is online: Phoenix-Presence-style state, diffs, colours and the reaper."""
