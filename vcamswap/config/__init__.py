"""Configuration: pydantic models, YAML loading with line-numbered problems, user paths."""

from vcamswap.config.loader import Problem, ensure_config, load_config, parse_config_text
from vcamswap.config.models import Config
from vcamswap.config.paths import AppPaths

__all__ = ["AppPaths", "Config", "Problem", "ensure_config", "load_config", "parse_config_text"]
