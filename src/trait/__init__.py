"""TRAIT: task-oriented in-domain data augmentation for continual pre-training.

The package follows the paper's figure: ``select`` (in-domain data from a general corpus),
``synthesize`` (task-oriented passages), ``build`` + ``train`` (two-stage CPT), ``evaluate``, ``report``.
"""

__version__ = "0.1.0"
