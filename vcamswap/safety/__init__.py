"""Safety: consent record, privacy guard (on-face-lost policy). The visible label is a
processor (processors/label.py); metadata labels are written by the offline writers."""
