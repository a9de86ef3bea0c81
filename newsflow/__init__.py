"""newsflow: raw Korean news pages in, validated article, entity and weather tables out."""

__version__ = "0.1.0"
