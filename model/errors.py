"""Typed errors of the model package.

ModelError
├── CheckpointError      a checkpoint file or folder is missing, corrupt, truncated or of the wrong variant
│   └── KeyMismatchError missing or unexpected keys, or a shape that does not match the architecture
├── DeviceError          a requested device or dtype is not available here
├── ParamsError          a synthesis parameter is out of the model's range
└── VoiceError           a reference clip or voice file cannot be used (silent, too short, not audio)
"""


class ModelError(Exception):
    """Base of every error the model package raises on purpose; its message is one line for the user."""


class CheckpointError(ModelError):
    """A checkpoint file or folder cannot be used."""


class KeyMismatchError(CheckpointError):
    """A state dict's keys or shapes do not match the module it is loaded into."""


class DeviceError(ModelError):
    """A requested device or dtype is not available."""


class ParamsError(ModelError):
    """A synthesis parameter is outside what the model accepts (the message names it and its value)."""


class VoiceError(ModelError):
    """A reference clip or prepared voice cannot be used."""
