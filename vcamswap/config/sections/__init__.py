"""One module per config section; ``vcamswap.config.models`` puts them together."""
