"""Data files shipped with followmoney: ISO 4217 codes, the MCC dictionary, jurisdiction profiles."""
