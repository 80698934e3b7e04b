"""The local stack: everything that lets the skill run whole on one machine, on loopback."""
