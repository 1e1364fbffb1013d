"""The sObjects the emulator knows: fields, relationships, key prefixes and API visibility."""
