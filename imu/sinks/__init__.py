"""Consumers of a running session: display, line output, alerts, recorder, event log.

:class:`~imu.sinks.base.Sink` is the interface; :class:`~imu.sinks.runner.Runner`
drives a source, the engine and the sinks (live and replay alike).
"""
