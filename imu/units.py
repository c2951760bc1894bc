"""Physical constants shared by every stage (one definition)."""

STANDARD_GRAVITY_M_S2 = 9.80665
"""Standard gravity in m/s^2 per g (ISO 80000-3): converts accelerometer g to m/s^2."""
