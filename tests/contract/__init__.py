"""Adapters against the emulators and recorded cassettes: the vendor contracts we rely on."""
