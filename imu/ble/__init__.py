"""BLE IMUs: device profiles (pure decoders), timestamping, scanning and live connection."""
