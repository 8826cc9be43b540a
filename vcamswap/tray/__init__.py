"""The tray icon. pystray is imported only in tray/icon.py, and only when the tray starts."""
