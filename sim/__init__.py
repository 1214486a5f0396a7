"""sim: agent-based simulation of customer markets on Mesa.

Customers choose firms by perceived value, experience the service, compare it with what
they expected, complain or stay silent, talk to their friends, refer new customers, stay
or churn. See docs/model.md for the model (ODD protocol).
"""

from .agents import Customer, Firm
from .model import MarketModel
from .network import Network, build_network
from .params import FirmParams, MarketParams, ModelParams, NetworkParams, SegmentParams
from .stages import PeriodState, Schedule, Stage

__all__ = [
    "Customer",
    "Firm",
    "FirmParams",
    "MarketModel",
    "MarketParams",
    "ModelParams",
    "Network",
    "NetworkParams",
    "PeriodState",
    "Schedule",
    "SegmentParams",
    "Stage",
    "build_network",
]

__version__ = "0.1.0"
