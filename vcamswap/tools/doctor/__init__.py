"""`vcamswap doctor`: checks of this machine, each with its fix."""

from vcamswap.tools.doctor.check import Check
from vcamswap.tools.doctor.run import run_doctor

__all__ = ["Check", "run_doctor"]
