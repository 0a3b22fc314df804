"""Numbers: dial-string and SIP-URI normalisation, classification (country, type, risk, time zones)."""

from .classify import NumberClassifier, NumberInfo, classify_number, number_type_name
from .dialstring import DialTarget, TargetKind, normalize_dial_string
from .risk import RiskCategory, RiskPrefix, RiskTable, shipped_risk_data, validate_e164_prefix

__all__ = [
    "DialTarget",
    "NumberClassifier",
    "NumberInfo",
    "RiskCategory",
    "RiskPrefix",
    "RiskTable",
    "TargetKind",
    "classify_number",
    "normalize_dial_string",
    "number_type_name",
    "shipped_risk_data",
    "validate_e164_prefix",
]
