"""imu: watch a lifter's lower back with one commodity BLE IMU.

Sources of samples (BLE devices, recorded files) -> decoding to SI-named samples ->
one streaming pipeline (calibration, orientation, angles, reps, features, classifier)
-> events consumed by sinks (display, alerts, recorder, reports).
See docs/architecture.md.
"""

__version__ = "0.1.0"
