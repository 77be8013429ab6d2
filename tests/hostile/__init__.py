"""Test helpers that play the attacker: a malicious relay, an impostor member, secret needles."""
