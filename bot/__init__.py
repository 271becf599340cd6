"""Everything of Pathfinder that faces a network or a person: serving, channels, tools."""
