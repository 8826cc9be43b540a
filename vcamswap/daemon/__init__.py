"""The live daemon: App (the composition root: start and stop order), the builders that turn a
Config into sources, processors and sinks, the controls the tray and the control API drive, and
config hot reload."""
