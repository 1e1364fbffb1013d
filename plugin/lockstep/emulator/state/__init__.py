"""An emulated org's state: state files loaded and validated into tables, and the runtime store."""
