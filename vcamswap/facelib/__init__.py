"""The face library: named source photos in the faces folder, validated when added."""
