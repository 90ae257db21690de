"""voicecoach: an offline, screen-free voice coach for couples."""

__version__ = "0.1.0"
