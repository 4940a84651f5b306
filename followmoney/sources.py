"""The documents the indicator catalogue cites, by the tags used in the reference catalogue.

Indicators name their sources by tag; the docs resolve each tag to the full citation here, and
the contract tests fail on a tag that is not listed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Citation:
    """A cited document."""

    tag: str
    title: str
    url: str


SOURCES: dict[str, Citation] = {
    c.tag: c
    for c in (
        Citation(
            "OSCE19",
            "OSCE OSR/CTHB, Following the Money: Compendium of Resources and Step-by-Step Guide to "
            "Financial Investigations Related to Trafficking in Human Beings (November 2019)",
            "https://reliefweb.int/report/world/following-money-compendium-resources-and-step-step-guide-financial-investigations",
        ),
        Citation(
            "F14",
            "FinCEN Advisory FIN-2014-A008, Guidance on Recognizing Activity that May be Associated with "
            "Human Smuggling and Human Trafficking (11 September 2014)",
            "https://www.fincen.gov/resources/advisories/fincen-advisory-fin-2014-a008",
        ),
        Citation(
            "F20",
            "FinCEN Advisory FIN-2020-A008, Supplemental Advisory on Identifying and Reporting Human "
            "Trafficking and Related Activity (15 October 2020)",
            "https://www.fincen.gov/resources/advisories/fincen-advisory-fin-2020-a008",
        ),
        Citation(
            "FATF18",
            "FATF-APG, Financial Flows from Human Trafficking (July 2018)",
            "https://www.fatf-gafi.org/publications/methodsandtrends/documents/human-trafficking.html",
        ),
        Citation(
            "FT16",
            "FINTRAC Operational Alert FINTRAC-2016-OA003, Indicators: Laundering of proceeds from human "
            "trafficking for sexual exploitation (15 December 2016)",
            "https://fintrac-canafe.canada.ca/intel/operation/oai-hts-eng",
        ),
        Citation(
            "FT21",
            "FINTRAC Operational Alert FINTRAC-2021-OA001, Updated indicators: Laundering of proceeds from "
            "human trafficking for sexual exploitation, Project Protect (July 2021)",
            "https://fintrac-canafe.canada.ca/intel/operation/oai-hts-2021-eng",
        ),
        Citation(
            "AU22",
            "AUSTRAC / Fintel Alliance, Detecting and stopping forced sexual servitude in Australia "
            "(February 2022)",
            "https://www.austrac.gov.au/business/how-comply-guidance-and-resources/guidance-resources/detecting-and-stopping-forced-sexual-servitude-australia",
        ),
        Citation(
            "LI19",
            "Liechtenstein Initiative, Unlocking Potential: A Blueprint for Mobilizing Finance Against "
            "Slavery and Trafficking (September 2019)",
            "https://cpr.unu.edu/research/projects/liechtenstein-initiative-for-finance-against-slavery-and-trafficking-fast.html",
        ),
    )
}


def base_tag(tag: str) -> str:
    """The document tag of a source reference: 'F14(sec)' and 'FATF18 p.28' cite F14 and FATF18."""
    return tag.split("(")[0].split(" ")[0]
