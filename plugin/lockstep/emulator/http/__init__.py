"""The emulator's HTTP side: the server and in-process transport, the ASGI app, routing, OAuth, admin."""
