"""eksaudit: an audit workbook for Amazon EKS security."""

__version__ = "0.1.0"
