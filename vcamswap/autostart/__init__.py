"""Start at login: XDG autostart entry and systemd user unit (Linux), LaunchAgent (macOS),
HKCU Run value (Windows). Files are rendered by the package, so pip install + enable works."""
