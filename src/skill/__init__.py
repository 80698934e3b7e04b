"""bulb-skill: an Alexa Smart Home skill backend for light bulbs behind their makers' clouds."""

__version__ = "0.1.0"
