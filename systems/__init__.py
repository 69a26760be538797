"""TTS systems under test. Each module registers its systems with `@SYSTEMS.register(name)`."""
