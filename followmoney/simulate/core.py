"""Background population of the simulator (the "core").

The core builds a :class:`World`: cities with bank branches and ATMs, external
counterparties (employers, landlords, merchants, suppliers, a card acquirer, a
pension fund) and a population of bank customers, then generates their
ordinary transactions chunk by chunk with vectorised numpy code.

Population (shares set in ``defaults.yml``):

* salaried people paid by ACH from a dozen employer accounts, biweekly on
  Fridays or monthly on the last business day (memo ``PAYROLL <EMPLOYER>``),
  paying rent by online transfer at the start of each month;
* students living on a monthly allowance from a parent at another bank and,
  for some, a small biweekly part-time payroll (kept below 500);
* pensioners paid monthly by a pension fund;
* owners of small cash-intensive businesses (restaurants, salons, retail,
  convenience stores) with a business account each: cash deposited every
  trading day (log-normal, mostly 200-3,000), card takings settled by the
  acquirer overnight, small card purchases of supplies, and one monthly batch
  of rent/supplier/payroll/utility payments plus the owner's draw;
* everybody spends by card (MCCs 5411, 5814, 5812, 5541, 5912, 4121, 5311,
  utilities 4900), withdraws cash at ATMs (mostly the bank's own, some
  white-label), sends small p2p transfers to other customers and now and then
  deposits a little cash or writes a cheque.  About 94 % of card/ATM activity
  happens in the customer's home city;
* frequent (business) travellers, a share of the salaried with higher pay:
  flights booked at home, a hotel charged at check-out, car rental, meals and
  airport rides in another city, trips at least five days apart;
* migrants (salaried or business owners) wiring a regular amount home once a
  month, mostly to countries on the THB-risk list, more in festive months.

Households share identifiers legitimately: couples an address (often a
landline), joint holders an address, a pensioner's authorised relative often
the family phone, students in shared houses an address and the home IP.
Accounts were opened before the period (up to ~14 years; students ~4).

Seasons (``background.seasons``) scale card spending by month and category
(December retail peak, January dip), leisure travel (summer) and remittance
amounts (November/December).

Clock: every city has a time zone.  Customers act at local hours and the
timestamps are naive times on the bank's clock (``bank_time_zone``, Chicago by
default), so a 21:00 purchase in Las Vegas is recorded at 23:00 and a 07:00
one in Atlanta at 06:00; payroll, pension and card settlement batches run on
the bank's clock.  A scan with the default profile timezone (UTC, no
conversion) therefore sees ``local_hour`` as the bank's hour, like a bank
scanning in its own zone.  Night-time background activity stays realistic:
taxis around the clock, a few late purchases and ATM withdrawals in the west
that fall after 22:00 on the bank's clock.

Volume: about 1.0 transaction per account per day on average (personal
accounts ~0.95, business accounts ~2), so ``accounts=5600, days=180`` gives
roughly 10**6 transactions.

The background is designed never to satisfy the two reference detectors the
planted scenarios are checked against: no cash deposit reaches 8,000, and no
account's outflows within 48 h of an inflow of 500 or more reach 90 % of it
three times in 30 days.  The latter drives some choices that look arbitrary
otherwise: p2p transfers are capped at 450, student part-time pay stays
below 500, rent is at most a third of income, businesses trade Tuesday to
Saturday and pay their bills in one batch early on the first Tuesday of the
month (more than 48 h after their last takings), and their daily supply
purchases are capped at 140.

Migrants send one wire a month (the remittance rule wants three in 30 days)
and travellers' hotel stays are at least five days apart (the lodging rule
wants four charges in two cities within 14 days), so each look-alike stays in
one family of red flags at most.
"""

from __future__ import annotations

import datetime
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from followmoney.simulate.schema import CHANNELS, PARTY_SCHEMA, SCENARIO_TXN_SCHEMA

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR

# Customer profiles (codes in World.profile).
SALARIED, STUDENT, PENSIONER, OWNER, BUSINESS = range(5)
PROFILE_NAMES = ("salaried", "student", "pensioner", "owner", "business")

_CH = {name: i for i, name in enumerate(CHANNELS)}

# --------------------------------------------------------------------------
# Static catalogues.  All names are fictional.
# --------------------------------------------------------------------------

# code, name, region, weight, area code, ZIP prefix, IP prefix, branches, IANA time zone
_CITIES: tuple[tuple[str, str, str, float, str, str, str, int, str], ...] = (
    ("CHI", "Chicago", "IL", 0.22, "312", "606", "73.44", 9, "America/Chicago"),
    ("HOU", "Houston", "TX", 0.20, "713", "770", "98.196", 8, "America/Chicago"),
    ("ATL", "Atlanta", "GA", 0.16, "404", "303", "24.98", 7, "America/New_York"),
    ("PHX", "Phoenix", "AZ", 0.14, "602", "850", "68.104", 6, "America/Phoenix"),
    ("NWK", "Newark", "NJ", 0.10, "973", "071", "71.187", 6, "America/New_York"),
    ("LAS", "Las Vegas", "NV", 0.10, "702", "891", "70.173", 6, "America/Los_Angeles"),
    ("MIA", "Miami", "FL", 0.08, "305", "331", "76.108", 6, "America/New_York"),
)
_WHITE_LABEL_ATMS_PER_CITY = 12

# key, MCC, opening hours [h0, h1), brand names (one merchant per brand and city)
_CARD_CATEGORIES: tuple[tuple[str, str, tuple[int, int], tuple[str, ...]], ...] = (
    ("grocery", "5411", (8, 21), ("FRESHMART", "GREENLEAF GROCERS", "VALUE FOODS",
                                  "CORNER MARKET", "SUNRISE SUPERMARKET", "HARVEST TABLE")),
    ("fast_food", "5814", (7, 23), ("BURGER BARN", "TACO TRAIL", "CHICKEN SHACK",
                                    "PIZZA PRONTO", "BAGEL BOX", "COFFEE CORNER")),
    ("restaurant", "5812", (11, 23), ("BLUE PLATE DINER", "LOTUS THAI KITCHEN", "CASA VERDE",
                                      "THE GRILL HOUSE", "SAKURA SUSHI", "MAMA ROSA TRATTORIA")),
    ("fuel", "5541", (6, 22), ("QUIKFUEL", "STARLINE GAS", "ROADRUNNER FUEL", "PETRO PLUS")),
    ("pharmacy", "5912", (8, 21), ("WELLCARE PHARMACY", "CITY DRUG", "HEALTHPOINT RX")),
    ("taxi", "4121", (0, 24), ("RIDENOW", "CITY CAB CO", "ZIPRIDE")),
    ("retail", "5311", (9, 21), ("MAINSTREET DEPT STORE", "BARGAIN TOWN", "HOME & HEARTH")),
)
_CATEGORY_KEYS = tuple(c[0] for c in _CARD_CATEGORIES)
_UTILITY_MCC = "4900"
_WHOLESALE_MCC = "5300"
_WHOLESALE_BRANDS = ("BULKWAY WHOLESALE", "PRO SUPPLY DEPOT")

# employer name, pay schedule
_EMPLOYERS: tuple[tuple[str, str], ...] = (
    ("ACME CORP", "biweekly"), ("NORTHWIND LOGISTICS", "biweekly"),
    ("ST MARY REGIONAL HEALTH", "biweekly"), ("BLUE RIVER SCHOOL DISTRICT", "monthly"),
    ("SUMMIT MANUFACTURING", "biweekly"), ("PIONEER RETAIL GROUP", "biweekly"),
    ("HARBOR MUTUAL INSURANCE", "monthly"), ("METRO TRANSIT AUTHORITY", "biweekly"),
    ("GREENFIELD FOODS", "biweekly"), ("CLEARWATER ENERGY", "monthly"),
    ("ORION SOFTWARE", "monthly"), ("COUNTY SERVICES DEPT", "monthly"),
)
_PARTTIME_EMPLOYERS = (5, 8)  # indices into _EMPLOYERS hiring students

_LANDLORDS = ("MAPLE PROPERTY MGMT", "OAKRIDGE APARTMENTS", "PARKVIEW RESIDENTIAL",
              "CITYLINE REALTY", "STONEBRIDGE HOMES")
_COMMERCIAL_LANDLORDS = ("MERIDIAN COMMERCIAL RE", "KEYSTONE RETAIL PROPERTIES")

# business type, opening hours, suppliers, name pattern
_BUSINESS_TYPES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("restaurant", "11-22", ("METRO FOOD SUPPLY", "FRESHLINE PRODUCE"), "{last}'S KITCHEN"),
    ("salon", "09-19", ("BEAUTYPRO DISTRIBUTORS", "SALON SOURCE INC"), "{first}'S HAIR STUDIO"),
    ("retail", "10-20", ("GLOBAL GOODS WHOLESALE", "PRIME MERCHANDISE CO"), "{last} GIFTS & MORE"),
    ("convenience_store", "07-23", ("QUICKSTOCK DISTRIBUTION", "CORNER WHOLESALE"),
     "{last} CORNER MART"),
)

_FIRST_NAMES = (
    "JAMES", "MARIA", "ROBERT", "LINDA", "MICHAEL", "PATRICIA", "DAVID", "JENNIFER", "JOSE",
    "ELIZABETH", "DANIEL", "SUSAN", "CARLOS", "JESSICA", "ANTHONY", "SARAH", "KEVIN", "KAREN",
    "BRIAN", "NANCY", "JUAN", "LISA", "WEI", "ANA", "ANDRE", "MEI", "OMAR", "FATIMA", "IVAN",
    "OLGA", "TYRONE", "KEISHA", "LUIS", "ROSA", "MINH", "LINH", "SAMUEL", "GRACE", "AHMED",
    "AISHA", "PETER", "EMILY", "DIEGO", "SOFIA", "ERIC", "HANNAH", "RAJ", "PRIYA", "JAMAL",
    "TANYA", "VICTOR", "ELENA", "GEORGE", "MARTHA", "TOMAS", "LUCIA", "KENJI", "YUKI",
    "DMITRI", "NATASHA",
)
_LAST_NAMES = (
    "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ",
    "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR",
    "MOORE", "JACKSON", "MARTIN", "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ",
    "CLARK", "RAMIREZ", "LEWIS", "ROBINSON", "WALKER", "YOUNG", "ALLEN", "KING", "WRIGHT",
    "SCOTT", "TORRES", "NGUYEN", "HILL", "FLORES", "GREEN", "ADAMS", "NELSON", "BAKER", "HALL",
    "RIVERA", "CAMPBELL", "MITCHELL", "CARTER", "ROBERTS", "CHEN", "WANG", "PATEL", "KIM",
    "IVANOV", "POPOVA", "OKAFOR", "MENSAH", "HASSAN", "TANAKA",
)
_STREETS = (
    "OAK", "MAPLE", "CEDAR", "PINE", "ELM", "WASHINGTON", "LAKE", "HILL", "PARK", "MAIN",
    "LINCOLN", "JACKSON", "RIVER", "SUNSET", "HIGHLAND", "FRANKLIN", "MADISON", "CHESTNUT",
    "WALNUT", "SPRING", "CHURCH", "MILL", "BROAD", "CENTER", "UNION", "VALLEY", "FOREST",
    "MEADOW", "RIDGE", "HARBOR",
)
_STREET_SUFFIXES = ("ST", "AVE", "BLVD", "DR", "LN", "RD", "CT", "PL")
_EMAIL_DOMAINS = ("mailbox.test", "inbox.test", "webmail.test", "post.test", "netmail.test")
_OCCUPATIONS = (
    "nurse", "teacher", "warehouse associate", "software developer", "accountant", "driver",
    "cashier", "electrician", "mechanic", "office manager", "sales associate", "engineer",
    "cook", "security guard", "customer service rep", "paralegal", "technician", "analyst",
)
# Travel: hotels, car rental and airlines of frequent (business) travellers.
_HOTEL_BRANDS = ("GRAND PLAZA HOTEL", "HARBORVIEW INN", "SKYLINE SUITES", "METRO BUSINESS HOTEL")
_CAR_RENTAL_BRANDS = ("SWIFT CAR RENTAL", "BUDGETWAY RENT A CAR")
_AIRLINE_BRANDS = ("SKYWAYS AIRLINES", "BLUEJET AIR")
# Migrants' countries of origin; most are on the THB-risk list, as in real remittance corridors.
_ORIGINS = ("MX", "GT", "HN", "SV", "PH", "VN", "IN", "NG", "UA", "RO", "MD", "CO", "TH")
_ORIGIN_WEIGHTS = (0.24, 0.12, 0.08, 0.08, 0.12, 0.08, 0.07, 0.05, 0.05, 0.03, 0.02, 0.04, 0.02)
_MONEY_TRANSFER = ("REMITLY", "WESTERN UNION", "MONEYGRAM", "XOOM")
_REMITTANCE_MEMOS = ("FAMILY SUPPORT", "for mom", "school fees", "household")

_P2P_MEMOS = ("dinner", "thanks!", "groceries", "tickets", "gas money", "birthday", "lunch",
              "bills", "coffee", "split")


@dataclass(frozen=True)
class City:
    """A city where customers live and where branches and ATMs are.

    Attributes:
        code: Three-letter code used in generated ids.
        name: City name (the ``city`` column and ``home_city``).
        region: Two-letter state code (the ``region`` column).
        weight: Share of customers living there.
        area_code: Telephone area code.
        zip_prefix: First three digits of local ZIP codes.
        ip_prefix: First two octets of local residential IP addresses.
        branches: Ids of the bank's branches (each with its own ATM).
        white_label_atms: Ids of white-label ATMs.
        zone: IANA time zone; events in the city happen at local hours and are
            recorded on the bank's clock (``background.bank_time_zone``).
    """

    code: str
    name: str
    region: str
    weight: float
    area_code: str
    zip_prefix: str
    ip_prefix: str
    branches: tuple[str, ...]
    white_label_atms: tuple[str, ...]
    zone: str


class Vocab:
    """Append-only table of distinct strings; a string's code is its position.

    Background transactions are generated as integer codes into vocabularies
    and only turned into strings when a row group is written, which keeps the
    generator fast and its memory at ~50 bytes per transaction.
    """

    def __init__(self, values: Sequence[str] = ()) -> None:
        self._values: list[str] = []
        self._index: dict[str, int] = {}
        self._arrow: pa.Array | None = None
        self.extend(values)

    def add(self, value: str) -> int:
        """Return the code of ``value``, adding it when new."""
        code = self._index.get(value)
        if code is None:
            code = len(self._values)
            self._values.append(value)
            self._index[value] = code
            self._arrow = None
        return code

    def extend(self, values: Sequence[str]) -> np.ndarray:
        """Add several strings; returns their codes as an int32 array."""
        return np.fromiter((self.add(v) for v in values), dtype=np.int32, count=len(values))

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, code: int) -> str:
        return self._values[code]

    def strings(self, codes: np.ndarray) -> np.ndarray:
        """Decode codes to an object array of str (``None`` where code < 0)."""
        table = np.array(self._values + [None], dtype=object)
        codes = np.asarray(codes)
        return table[np.where(codes < 0, len(self._values), codes)]

    def take(self, codes: np.ndarray) -> pa.Array:
        """Decode codes to an Arrow string array (null where code < 0)."""
        if self._arrow is None:
            self._arrow = pa.array(self._values, type=pa.string())
        codes = np.asarray(codes)
        return self._arrow.take(pa.array(codes, mask=codes < 0))


# dtype of each coded background column; -1 means null for the integer codes.
_CODED: dict[str, type] = {
    "ts": np.int64, "amount": np.float64, "payer": np.int32, "benef": np.int32,
    "channel": np.int8, "mcc": np.int16, "cpty": np.int32, "memo": np.int32,
    "pcountry": np.int16, "bcountry": np.int16, "city": np.int16, "branch": np.int32,
    "atm": np.int8, "device": np.int32, "ip": np.int32, "refund": np.bool_,
    "region": np.int16, "currency": np.int8, "scenario": np.int32,
}

#: One coded background row as a numpy record (what the simulator spills to disk at scale).
CODED_DTYPE = np.dtype([(name, dtype) for name, dtype in _CODED.items()])


class _Blocks:
    """Collects coded transaction blocks of one chunk and concatenates them."""

    def __init__(self, us_code: int) -> None:
        self._parts: list[dict[str, np.ndarray]] = []
        self._us = us_code

    def add(self, n: int, **cols: Any) -> None:
        if n == 0:
            return
        unknown = set(cols) - set(_CODED)
        if unknown:
            raise KeyError(f"unknown coded columns {sorted(unknown)}")
        # Counterparties are domestic unless a block says otherwise.
        if "pcountry" not in cols and "payer" in cols:
            cols["pcountry"] = np.where(np.asarray(cols["payer"]) >= 0, self._us, -1)
        if "bcountry" not in cols and "benef" in cols:
            cols["bcountry"] = np.where(np.asarray(cols["benef"]) >= 0, self._us, -1)
        # The region vocabulary lists the cities' states in city order; all in USD.
        if "region" not in cols and "city" in cols:
            cols["region"] = cols["city"]
        cols.setdefault("currency", 0)
        block = {}
        for name, dtype in _CODED.items():
            value = cols.get(name)
            if value is None:
                block[name] = np.full(n, False if dtype is np.bool_ else -1, dtype=dtype)
            else:
                arr = np.asarray(value, dtype=dtype)
                block[name] = np.full(n, arr, dtype=dtype) if arr.ndim == 0 else arr
        self._parts.append(block)

    def concat(self) -> dict[str, np.ndarray]:
        if not self._parts:
            return {name: np.empty(0, dtype=dtype) for name, dtype in _CODED.items()}
        return {name: np.concatenate([p[name] for p in self._parts]) for name in _CODED}


def _dates(days: np.ndarray) -> list[Any]:
    """numpy datetime64 values -> list of ``datetime.date`` (what Arrow's date32 takes)."""
    return list(np.asarray(days).astype("datetime64[D]").astype(object))


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int,
               lo: float, hi: float) -> np.ndarray:
    """Log-normal amounts around ``median`` clipped to [lo, hi], in cents."""
    return np.round(np.clip(rng.lognormal(np.log(median), sigma, n), lo, hi), 2)


def _uniform_range(rng: np.random.Generator, rng_spec: Sequence[float], n: int) -> np.ndarray:
    return rng.uniform(float(rng_spec[0]), float(rng_spec[1]), n)


def _tod(rng: np.random.Generator, n: int, h0: float, h1: float) -> np.ndarray:
    """Random time of day in microseconds within [h0, h1) hours."""
    return rng.integers(int(h0 * US_PER_HOUR), int(h1 * US_PER_HOUR), n, dtype=np.int64)


class World:
    """Background world: cities, counterparties and the customer population.

    A ``World`` is fully determined by ``(seed, accounts, days, start, cfg)``;
    it draws from its own random streams (``population`` for the customers and
    their parties, ``background`` for their transactions), so scenario plug-ins
    never shift it.  Scenarios read from it and use its helpers
    (:meth:`hours_to_ts`, :meth:`pick_cities`, :meth:`make_parties`,
    :meth:`everyday_activity`) with their own random stream.

    Attributes:
        seed: Master seed.
        accounts: Number of background accounts.
        days: Length of the simulated period in days.
        start: First simulated day.
        cfg: The ``background`` section of the configuration.
        cities: Cities of the world.
        account_ids: Ids of the background accounts ("A0000001", ...).
        profile: Profile code of each background account (see PROFILE_NAMES).
        home_city: Index into ``cities`` of each account's home city.
    """

    def __init__(self, seed: int, accounts: int, days: int, start: str,
                 cfg: Mapping[str, Any]) -> None:
        if accounts < 1 or days < 1:
            raise ValueError("accounts and days must be positive")
        self.seed = int(seed)
        self.accounts = int(accounts)
        self.days = int(days)
        self.start = np.datetime64(start, "D")
        self.cfg: Mapping[str, Any] = cfg
        self._day0 = int(self.start.astype(np.int64))
        self.t0_us = self._day0 * US_PER_DAY

        self.cities = tuple(
            City(code, name, region, weight, area, zip3, ip,
                 tuple(f"BR-{code}-{k + 1:02d}" for k in range(nb)),
                 tuple(f"WL-{code}-{k + 1:03d}" for k in range(_WHITE_LABEL_ATMS_PER_CITY)), zone)
            for code, name, region, weight, area, zip3, ip, nb, zone in _CITIES
        )
        w = np.array([c.weight for c in self.cities])
        self.city_weights = w / w.sum()

        self._init_vocabs()
        self._init_calendar()
        self._init_zones()
        self._init_seasons()
        self._init_counterparties()
        rng = self.stream("population")
        self._init_population(rng)
        # Later additions draw from their own streams so that they do not reshuffle the rest.
        self._init_travel_and_migration(self.stream("travel-migration"))
        self._init_households(self.stream("households"))
        self._parties = self._init_parties(rng)

    # ------------------------------------------------------------------ streams
    def stream(self, name: str) -> np.random.Generator:
        """Independent random stream derived from the seed and ``name``."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, zlib.crc32(name.encode())]))

    # ---------------------------------------------------------------- set-up
    def _init_vocabs(self) -> None:
        self.v_acct = Vocab([f"A{i + 1:07d}" for i in range(self.accounts)])
        self.v_name = Vocab()
        self.v_memo = Vocab()
        self.v_mcc = Vocab()
        self.v_country = Vocab(["US"])
        self.v_city = Vocab([c.name for c in self.cities])
        self.v_region = Vocab([c.region for c in self.cities])
        self.v_branch = Vocab([b for c in self.cities for b in c.branches + c.white_label_atms])
        self.v_atm = Vocab(["bank", "white_label"])
        self.v_currency = Vocab(["USD"])
        self.v_scenario = Vocab()
        self.v_device = Vocab()
        self.v_ip = Vocab()
        self._us = 0

    def _init_calendar(self) -> None:
        first_month = self.start.astype("datetime64[M]")
        last_month = (self.start + self.days).astype("datetime64[M]")
        months = np.arange(first_month, last_month + 2)
        # Day index (relative to start) of the first day of each month, one
        # extra month so that month ends can be derived.
        self.month_first = (months.astype("datetime64[D]") - self.start).astype(np.int64)

    def _init_zones(self) -> None:
        """Shift (µs) from each city's local clock to the bank's clock, per city and day.

        Offsets are taken at local noon of each day, so daylight-saving changes
        (and Arizona not observing them) are followed day by day.
        """
        bank = ZoneInfo(str(self.cfg.get("bank_time_zone", "America/Chicago")))
        epoch = datetime.datetime(1970, 1, 1)
        dates = [epoch + datetime.timedelta(days=int(d)) for d in self._day0 + np.arange(self.days)]

        def offsets(zone: ZoneInfo) -> np.ndarray:
            return np.array([zone.utcoffset(d.replace(hour=12)).total_seconds() for d in dates])

        bank_off = offsets(bank)
        cache: dict[str, np.ndarray] = {}
        shift = np.zeros((len(self.cities), self.days), dtype=np.int64)
        for c, city in enumerate(self.cities):
            if city.zone not in cache:
                cache[city.zone] = offsets(ZoneInfo(city.zone))
            shift[c] = np.round((bank_off - cache[city.zone]) * 1_000_000).astype(np.int64)
        self.zone_shift = shift

    def _init_seasons(self) -> None:
        """Per-day multipliers of activity by key (card categories, ``all``, ``travel``).

        ``background.seasons`` maps a month number (1-12) to multipliers, e.g.
        December retail; the months not listed use 1.
        """
        month = ((self.start + np.arange(self.days)).astype("datetime64[M]").astype(np.int64) % 12) + 1
        seasons = {int(m): dict(v or {}) for m, v in (self.cfg.get("seasons") or {}).items()}
        keys = {k for v in seasons.values() for k in v} | {"all", "travel", *_CATEGORY_KEYS, "remittance"}
        self.season: dict[str, np.ndarray] = {}
        for key in keys:
            table = np.ones(13)
            for m, v in seasons.items():
                table[m] = float(v.get(key, 1.0))
            self.season[key] = table[month]

    def weekday(self, day: np.ndarray | int) -> np.ndarray:
        """Weekday (Monday=0) of day indices relative to the start."""
        return (np.asarray(day) + self._day0 + 3) % 7  # 1970-01-01 was a Thursday

    def _init_counterparties(self) -> None:
        nc = len(self.cities)
        self.merchants: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
        for key, mcc, _, brands in _CARD_CATEGORIES:
            self.merchants[key] = self._merchant_table(mcc, brands)
        self.utility_acct = self.v_acct.extend([f"M-{c.code}-{_UTILITY_MCC}-01" for c in self.cities])
        self.utility_name = self.v_name.extend([f"{c.name.upper()} POWER & WATER" for c in self.cities])
        self.utility_mcc = self.v_mcc.add(_UTILITY_MCC)
        self.wholesale = self._merchant_table(_WHOLESALE_MCC, _WHOLESALE_BRANDS)

        self.employer_acct = self.v_acct.extend([f"X-EMP-{i + 1:02d}" for i in range(len(_EMPLOYERS))])
        self.employer_name = self.v_name.extend([e[0] for e in _EMPLOYERS])
        self.employer_memo = self.v_memo.extend([f"PAYROLL {e[0]}" for e in _EMPLOYERS])
        self.employer_paydays = [self._paydays(i, sched) for i, (_, sched) in enumerate(_EMPLOYERS)]

        nl = len(_LANDLORDS)
        self.landlord_acct = self.v_acct.extend(
            [f"X-LL-{c.code}-{k + 1}" for c in self.cities for k in range(nl)]).reshape(nc, nl)
        self.landlord_name = self.v_name.extend(
            [n for _ in self.cities for n in _LANDLORDS]).reshape(nc, nl)
        ncl = len(_COMMERCIAL_LANDLORDS)
        self.clandlord_acct = self.v_acct.extend(
            [f"X-CL-{c.code}-{k + 1}" for c in self.cities for k in range(ncl)]).reshape(nc, ncl)
        self.clandlord_name = self.v_name.extend(
            [n for _ in self.cities for n in _COMMERCIAL_LANDLORDS]).reshape(nc, ncl)
        self.rent_memo = self.v_memo.add("RENT")

        self.supplier_acct = self.v_acct.extend(
            [f"X-SUP-{i + 1:02d}" for i in range(2 * len(_BUSINESS_TYPES))]).reshape(-1, 2)
        self.supplier_name = self.v_name.extend(
            [s for b in _BUSINESS_TYPES for s in b[2]]).reshape(-1, 2)
        self.invoice_memo = self.v_memo.add("INVOICE PAYMENT")
        self.payprov_acct = self.v_acct.add("X-PAYPROV-01")
        self.payprov_name = self.v_name.add("PAYSTREAM PAYROLL SVC")
        self.payprov_memo = self.v_memo.add("PAYROLL RUN")
        self.acquirer_acct = self.v_acct.add("X-ACQ-01")
        self.acquirer_name = self.v_name.add("CARDPOINT MERCHANT SVCS")
        self.settlement_memo = self.v_memo.add("CARD SETTLEMENT")
        self.utility_memo = self.v_memo.add("UTILITY AUTOPAY")
        self.draw_memo = self.v_memo.add("OWNER DRAW")
        self.pension_acct = self.v_acct.add("X-PEN-01")
        self.pension_name = self.v_name.add("STATE PENSION FUND")
        self.pension_memo = self.v_memo.add("PENSION")
        self.allowance_memo = self.v_memo.add("allowance")
        self.p2p_memos = self.v_memo.extend(list(_P2P_MEMOS))
        self.cheque_acct = self.v_acct.extend([f"X-CHQ-{i + 1:03d}" for i in range(40)])
        self.hotels = self._merchant_table("7011", _HOTEL_BRANDS)
        self.car_rental = self._merchant_table("7512", _CAR_RENTAL_BRANDS)
        self.airlines = self._merchant_table("4511", _AIRLINE_BRANDS)
        self.mto_name = self.v_name.extend(list(_MONEY_TRANSFER))
        self.remit_memos = self.v_memo.extend(list(_REMITTANCE_MEMOS))

    def _merchant_table(self, mcc: str, brands: Sequence[str]) -> tuple[np.ndarray, np.ndarray, int]:
        nc, nb = len(self.cities), len(brands)
        acct = self.v_acct.extend(
            [f"M-{c.code}-{mcc}-{k + 1:02d}" for c in self.cities for k in range(nb)])
        name = self.v_name.extend(
            [f"{b} #{ci + 1}{k + 1:02d}" for ci in range(nc) for k, b in enumerate(brands)])
        return acct.reshape(nc, nb), name.reshape(nc, nb), self.v_mcc.add(mcc)

    def _paydays(self, employer: int, schedule: str) -> np.ndarray:
        """Pay days (relative day indices inside the period) of one employer."""
        if schedule == "biweekly":
            # Fridays; employers alternate between the two weeks of the cycle.
            first_friday = (4 - self.weekday(0)) % 7
            anchor = first_friday + 7 * (employer % 2)
            days = np.arange(anchor - 14, self.days, 14)
        else:
            last = self.month_first[1:] - 1
            wd = self.weekday(last)
            days = last - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))  # last business day
        return days[(days >= 0) & (days < self.days)]

    def _monthly(self, dom: np.ndarray, business_day: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Expand a day-of-month per row into (row, day) pairs within the period."""
        day = self.month_first[None, :] + np.asarray(dom, dtype=np.int64)[:, None] - 1
        if business_day:  # weekend -> following Monday
            wd = self.weekday(day)
            day = day + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
        rows, cols = np.nonzero((day >= 0) & (day < self.days))
        return rows, day[rows, cols]

    def _init_population(self, rng: np.random.Generator) -> None:
        cfg = self.cfg
        n = self.accounts
        n_bus = round(n * float(cfg["business_share"])) if n >= 20 else 0
        self.profile = np.full(n, SALARIED, dtype=np.int8)
        perm = rng.permutation(n)
        bus_idx = np.sort(perm[:n_bus])
        owners = perm[n_bus:2 * n_bus]
        self.profile[bus_idx] = BUSINESS
        self.profile[owners] = OWNER
        rest = np.sort(perm[2 * n_bus:])
        mix = cfg["profile_mix"]
        p = np.array([mix["salaried"], mix["student"], mix["pensioner"]], dtype=float)
        self.profile[rest] = np.array([SALARIED, STUDENT, PENSIONER])[
            rng.choice(3, rest.size, p=p / p.sum())]

        nc = len(self.cities)
        self.home_city = rng.choice(nc, n, p=self.city_weights).astype(np.int16)
        self.business_owner = np.full(n, -1, dtype=np.int64)
        self.business_owner[bus_idx] = owners
        self.home_city[bus_idx] = self.home_city[owners]

        # Couples with separate accounts live together (same city and address).
        adults = np.flatnonzero(np.isin(self.profile, (SALARIED, PENSIONER)))
        n_pairs = round(adults.size * float(cfg["households"]["couples_share"]) / 2)
        pair = rng.permutation(adults)[: 2 * n_pairs].reshape(-1, 2)
        self.couples = pair
        self.home_city[pair[:, 1]] = self.home_city[pair[:, 0]]

        self.activity = rng.lognormal(0.0, float(cfg["activity_sigma"]), n)
        factor = np.ones((n, len(_CATEGORY_KEYS)))
        for prof_name, tweaks in (cfg.get("card_profile_factor") or {}).items():
            rows = self.profile == PROFILE_NAMES.index(prof_name)
            for key, val in tweaks.items():
                if key == "all":
                    factor[rows] *= float(val)
                else:
                    factor[rows, _CATEGORY_KEYS.index(key)] *= float(val)
        self.card_rate = factor * self.activity[:, None]

        # Income and regular payments ----------------------------------------
        self.employer = np.full(n, -1, dtype=np.int16)
        self.pay = np.zeros(n)            # amount per paycheck / pension / allowance
        self.monthly_income = np.zeros(n)
        sal = np.flatnonzero(self.profile == SALARIED)
        self.employer[sal] = rng.integers(0, len(_EMPLOYERS), sal.size)
        sc = cfg["salary"]
        monthly = np.round(np.clip(rng.lognormal(np.log(sc["median"]), sc["sigma"], sal.size),
                                   sc["min"], sc["max"]), -1)
        biweekly = np.array([_EMPLOYERS[e][1] == "biweekly" for e in self.employer[sal]])
        self.pay[sal] = np.round(np.where(biweekly, monthly * 12 / 26, monthly), 2)
        self.monthly_income[sal] = monthly

        stu = np.flatnonzero(self.profile == STUDENT)
        self.allowance = np.zeros(n)
        self.allowance[stu] = np.round(_uniform_range(rng, cfg["student_allowance"], stu.size), -1)
        parttime = stu[rng.random(stu.size) < float(cfg["student_parttime_prob"])]
        self.employer[parttime] = np.array(_PARTTIME_EMPLOYERS)[
            rng.integers(0, len(_PARTTIME_EMPLOYERS), parttime.size)]
        self.pay[parttime] = np.round(_uniform_range(rng, cfg["student_parttime_pay"], parttime.size), 2)
        self.monthly_income[stu] = self.allowance[stu] + self.pay[stu] * 26 / 12
        self.allowance_day = rng.integers(8, 21, n)
        self.parent_acct = np.full(n, -1, dtype=np.int32)
        self.parent_acct[stu] = self.v_acct.extend([f"X-FAM-{i + 1:07d}" for i in stu])

        pen = np.flatnonzero(self.profile == PENSIONER)
        self.pay[pen] = np.round(_uniform_range(rng, cfg["pension"], pen.size), 2)
        self.monthly_income[pen] = self.pay[pen]

        # Businesses: size, cash share, type, counterparties.
        bc = cfg["business"]
        types = [t[0] for t in _BUSINESS_TYPES]
        tm = np.array([bc["type_mix"].get(t, 0.0) for t in types], dtype=float)
        self.btype = np.full(n, -1, dtype=np.int8)
        self.btype[bus_idx] = rng.choice(len(types), n_bus, p=tm / tm.sum())
        self.daily_revenue = np.zeros(n)
        self.daily_revenue[bus_idx] = rng.lognormal(np.log(bc["daily_revenue_median"]),
                                                    bc["daily_revenue_sigma"], n_bus)
        self.cash_share = np.zeros(n)
        self.cash_share[bus_idx] = _uniform_range(rng, bc["cash_share"], n_bus)
        self.shares = {k: np.zeros(n) for k in bc["monthly_shares"]}
        for k, rngspec in bc["monthly_shares"].items():
            self.shares[k][bus_idx] = _uniform_range(rng, rngspec, n_bus)
        self.supplier = rng.integers(0, 2, n)
        self.clandlord = rng.integers(0, len(_COMMERCIAL_LANDLORDS), n)
        self.main_branch = rng.integers(0, 1 << 30, n)  # reduced modulo #branches when used
        # ~21.7 trading days a month (Tuesday to Saturday).
        self.monthly_income[owners] = np.round(
            self.daily_revenue[bus_idx] * 21.7 * self.shares["owner_draw"][bus_idx], -1)

        # Rent: everyone but students; pensioners only when renting.
        renter = np.isin(self.profile, (SALARIED, OWNER)) | (
            (self.profile == PENSIONER) & (rng.random(n) < float(cfg["pensioner_rent_prob"])))
        self.rent = np.where(renter, np.round(
            self.monthly_income * _uniform_range(rng, cfg["rent_share"], n), -1), 0.0)
        self.rent_day = rng.integers(int(cfg["rent_day"][0]), int(cfg["rent_day"][1]) + 1, n)
        self.landlord = rng.integers(0, len(_LANDLORDS), n)
        uc = cfg["utility"]
        self.utility_level = np.clip(rng.lognormal(np.log(uc["median"]), uc["sigma"], n),
                                     uc["min"], uc["max"])
        self.utility_day = rng.integers(5, 26, n)

        # One device and one home IP per account (online-banking sessions).
        self.device = self.v_device.extend([f"D-{x:012x}" for x in rng.integers(0, 1 << 48, n)])
        octets = rng.integers(1, 255, (n, 2))
        self.ip = self.v_ip.extend(
            [f"{self.cities[c].ip_prefix}.{o[0]}.{o[1]}" for c, o in zip(self.home_city, octets, strict=True)])
        self.personal_idx = np.flatnonzero(self.profile != BUSINESS)

    def _init_travel_and_migration(self, rng: np.random.Generator) -> None:
        """Frequent travellers and migrants sending money home (subsets of salaried customers).

        Both are benign look-alikes of catalogue rules: travellers pay hotels, car
        rental and meals in other cities (lodging / movement rules), migrants wire
        money every month to countries that are mostly on the THB-risk list
        (remittance rules), at ordinary amounts and never more than twice in 30 days.
        """
        n = self.accounts
        tc, mc = self.cfg["travellers"], self.cfg["migrants"]
        sal = self.profile == SALARIED
        self.traveller = sal & (rng.random(n) < float(tc["share"]))
        # Jobs with regular travel pay better than the average salaried job.
        boost = np.where(self.traveller, float(tc["income_factor"]), 1.0)
        self.pay *= boost
        self.monthly_income *= boost
        self.rent = np.round(self.rent * boost, -1)
        self.migrant = (sal | (self.profile == OWNER)) & ~self.traveller & (rng.random(n) < float(mc["share"]))
        w = np.asarray(_ORIGIN_WEIGHTS, dtype=float)
        origin = rng.choice(len(_ORIGINS), n, p=w / w.sum())
        codes = self.v_country.extend(list(_ORIGINS))
        self.origin = np.where(self.migrant, codes[origin], -1).astype(np.int16)
        level = np.clip(rng.lognormal(np.log(float(mc["median"])), float(mc["sigma"]), n),
                        float(mc["min"]), float(mc["max"]))
        # Never more than a fifth of the monthly income goes home.
        self.remit_level = np.minimum(level, np.maximum(self.monthly_income * 0.2, float(mc["min"])))
        # Mid-month, away from rent (days 1-3) so a paycheck is never nearly all passed on.
        self.remit_day = rng.integers(int(mc["day"][0]), int(mc["day"][1]) + 1, n)
        self.remit_mto = rng.integers(0, len(_MONEY_TRANSFER), n)
        mig = np.flatnonzero(self.migrant)
        self.remit_acct = np.full(n, -1, dtype=np.int32)
        self.remit_acct[mig] = self.v_acct.extend(
            [f"X-REM-{_ORIGINS[origin[i]]}-{i + 1:07d}" for i in mig])

    def _init_households(self, rng: np.random.Generator) -> None:
        """Student houses: 3-5 students sharing a city, an address and the house's internet line."""
        cfg = self.cfg["households"]
        stu = np.flatnonzero(self.profile == STUDENT)
        chosen = rng.permutation(stu)[: round(stu.size * float(cfg["student_house_share"]))]
        sizes = rng.integers(3, 6, max(1, chosen.size // 3))
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        bounds = bounds[bounds <= chosen.size]
        self.houses = [np.sort(chosen[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b - a >= 2]
        for house in self.houses:
            self.home_city[house] = self.home_city[house[0]]
            self.ip[house] = self.ip[house[0]]

    # ------------------------------------------------------------------ parties
    def _people(self, rng: np.random.Generator, city: np.ndarray, age: Sequence[Any],
                serial: np.ndarray | None = None) -> dict[str, list[Any]]:
        """Random people living in ``city`` (one per entry).

        ``age`` is a ``(low, high)`` pair of years, scalars or one per person.

        With ``serial`` (unique integers) phones and emails are made unique by
        construction; without it they are drawn at random from a disjoint range.
        """
        n = len(city)
        first = np.array(_FIRST_NAMES)[rng.integers(0, len(_FIRST_NAMES), n)]
        last = np.array(_LAST_NAMES)[rng.integers(0, len(_LAST_NAMES), n)]
        lo = np.broadcast_to(np.asarray(age[0], dtype=float), n)
        hi = np.broadcast_to(np.asarray(age[1], dtype=float), n)
        age_days = rng.uniform(lo * 365.25, (hi + 1) * 365.25)
        birth = _dates(self.start - age_days.astype(np.int64))
        street = rng.integers(0, len(_STREETS), n)
        suffix = rng.integers(0, len(_STREET_SUFFIXES), n)
        number = rng.integers(1, 9900, n)
        apt = np.where(rng.random(n) < 0.35, rng.integers(1, 40, n), 0)
        zip2 = rng.integers(0, 100, n)
        if serial is None:
            serial = rng.integers(10_000_000, 99_999_999, n)
            phone_num = rng.integers(2_000_000, 10_000_000, n)
        else:
            # Bijective scramble of the serial: no accidental shared phones.
            phone_num = 2_000_000 + (np.asarray(serial) * 7919) % 8_000_000
        domain = rng.integers(0, len(_EMAIL_DOMAINS), n)
        cities = self.cities
        address = [
            f"{number[i]} {_STREETS[street[i]]} {_STREET_SUFFIXES[suffix[i]]}"
            + (f" APT {apt[i]}" if apt[i] else "")
            + f", {cities[c].name}, {cities[c].region} {cities[c].zip_prefix}{zip2[i]:02d}"
            for i, c in enumerate(city)
        ]
        phone = [f"+1-{cities[c].area_code}-{p // 10000:03d}-{p % 10000:04d}"
                 for c, p in zip(city, phone_num, strict=True)]
        email = [f"{f.lower()}.{la.lower()}{s}@{_EMAIL_DOMAINS[d]}"
                 for f, la, s, d in zip(first, last, serial, domain, strict=True)]
        return {"first": list(first), "last": list(last),
                "name": [f"{f} {la}" for f, la in zip(first, last, strict=True)],
                "birth_date": list(birth), "address": address, "phone": phone, "email": email}

    def _init_parties(self, rng: np.random.Generator) -> pa.Table:
        cfg = self.cfg["households"]
        n = self.accounts
        prof = self.profile
        rows: dict[str, list[Any]] = {f.name: [] for f in PARTY_SCHEMA}
        opened = _dates(self.start - np.where(prof == STUDENT, rng.integers(30, 1500, n),
                                              rng.integers(30, 5000, n)))

        def emit(acct: int, party: str, relation: str, person: Mapping[str, list[Any]], i: int,
                 occupation: str | None, income: float) -> None:
            business = prof[acct] == BUSINESS
            bt = _BUSINESS_TYPES[self.btype[acct]] if business else (None, None)
            values = (self.v_acct[acct], party, relation, person["name"][i],
                      person["birth_date"][i], person["address"][i], person["phone"][i],
                      person["email"][i], occupation, round(float(income), -2), opened[acct],
                      "business" if business else "personal", bt[0], bt[1],
                      self.cities[self.home_city[acct]].name)
            for key, value in zip(rows, values, strict=True):
                rows[key].append(value)

        # Holders of personal accounts; phones/emails unique by serial.
        pers = self.personal_idx
        age_lo = np.select([prof[pers] == STUDENT, prof[pers] == PENSIONER], [18, 66], 23)
        age_hi = np.select([prof[pers] == STUDENT, prof[pers] == PENSIONER], [25, 88], 64)
        holder = self._people(rng, self.home_city[pers], (age_lo, age_hi), np.arange(pers.size))
        serial = pers.size
        pos = np.full(n, -1)
        pos[pers] = np.arange(pers.size)
        # Couples with separate accounts share the address, often the landline.
        for a, b in self.couples:
            holder["address"][pos[b]] = holder["address"][pos[a]]
            if rng.random() < float(cfg["shared_phone_prob"]):
                holder["phone"][pos[b]] = holder["phone"][pos[a]]

        joint = np.flatnonzero((prof == SALARIED) & (rng.random(n) < float(cfg["joint_share"])))
        partner = self._people(rng, self.home_city[joint], (23, 64),
                               np.arange(serial, serial + joint.size))
        serial += joint.size
        for j, acct in enumerate(joint):
            i = pos[acct]
            partner["address"][j] = holder["address"][i]
            if rng.random() < 0.6:  # often, but not always, the same surname
                partner["name"][j] = f"{partner['first'][j]} {holder['last'][i]}"
            if rng.random() < float(cfg["shared_phone_prob"]):
                partner["phone"][j] = holder["phone"][i]
        auth = np.flatnonzero((prof == PENSIONER)
                              & (rng.random(n) < float(cfg["authorised_share"])))
        relative = self._people(rng, self.home_city[auth], (30, 60),
                                np.arange(serial, serial + auth.size))
        serial += auth.size
        for j, acct in enumerate(auth):
            relative["name"][j] = f"{relative['first'][j]} {holder['last'][pos[acct]]}"
            # A family sharing one phone: the relative gives the pensioner's number.
            if rng.random() < float(cfg["family_phone_prob"]):
                relative["phone"][j] = holder["phone"][pos[acct]]
        for house in self.houses:
            for m in house[1:]:
                holder["address"][pos[m]] = holder["address"][pos[house[0]]]
        occupation = np.array(_OCCUPATIONS)[rng.integers(0, len(_OCCUPATIONS), n)]
        extra_income = np.round(rng.uniform(20000, 90000, n), -2)
        gross = rng.uniform(1.15, 1.35, n)  # declared income is gross, payroll is net

        business_of = np.full(n, -1)
        bus = np.flatnonzero(prof == BUSINESS)
        business_of[self.business_owner[bus]] = bus
        joint_pos = dict(zip(joint.tolist(), range(joint.size), strict=True))
        auth_pos = dict(zip(auth.tolist(), range(auth.size), strict=True))
        for acct in pers.tolist():
            p = prof[acct]
            if p == SALARIED:
                occ, inc = str(occupation[acct]), self.monthly_income[acct] * 12 * gross[acct]
            elif p == OWNER:
                occ = f"{_BUSINESS_TYPES[self.btype[business_of[acct]]][0].replace('_', ' ')} owner"
                inc = self.monthly_income[acct] * 12
            else:
                occ, inc = ("student" if p == STUDENT else "retired"), self.monthly_income[acct] * 12
            emit(acct, f"P{acct + 1:07d}", "holder", holder, pos[acct], occ, inc)
            if acct in joint_pos:
                emit(acct, f"P{n + acct + 1:07d}", "joint", partner, joint_pos[acct],
                     str(occupation[(acct + 1) % n]), extra_income[acct])
            if acct in auth_pos:
                emit(acct, f"P{2 * n + acct + 1:07d}", "authorised", relative, auth_pos[acct],
                     str(occupation[(acct + 2) % n]), extra_income[acct])

        # Business accounts: the legal entity holds, the owner is authorised.
        ent = self._people(rng, self.home_city[bus], (30, 60), np.arange(serial, serial + bus.size))
        for k, acct in enumerate(bus.tolist()):
            owner = int(self.business_owner[acct])
            bt = _BUSINESS_TYPES[self.btype[acct]]
            oi = pos[owner]
            bname = bt[3].format(first=holder["first"][oi], last=holder["last"][oi])
            slug = "".join(ch for ch in bname.lower() if ch.isalnum())
            entity = {"name": [bname], "birth_date": [None], "address": [ent["address"][k]],
                      "phone": [ent["phone"][k]], "email": [f"info@{slug}{k + 1}.test"]}
            turnover = self.daily_revenue[acct] * 260 * rng.uniform(0.85, 1.15)
            emit(acct, f"E{acct + 1:07d}", "holder", entity, 0, None, turnover)
            emit(acct, f"P{owner + 1:07d}", "authorised", holder, oi,
                 f"{bt[0].replace('_', ' ')} owner", self.monthly_income[owner] * 12)

        table = pa.table(rows, schema=PARTY_SCHEMA)
        return table.sort_by([("account_id", "ascending"), ("party_id", "ascending")])

    def parties_table(self) -> pa.Table:
        """Parties of the background accounts, in :data:`PARTY_SCHEMA`."""
        return self._parties

    # ------------------------------------------------------- scenario helpers
    @property
    def account_ids(self) -> np.ndarray:
        """Ids of the background accounts (object array of str)."""
        return self.v_acct.strings(np.arange(self.accounts))

    def hours_to_ts(self, hours: np.ndarray | float) -> np.ndarray:
        """Convert hours since the start of the period to timestamps (int64 µs)."""
        return self.t0_us + np.round(np.asarray(hours, dtype=np.float64) * US_PER_HOUR).astype(np.int64)

    def pick_cities(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` city indices with the population's city weights."""
        return rng.choice(len(self.cities), n, p=self.city_weights)

    def make_parties(self, rng: np.random.Generator, account_ids: Sequence[str],
                     home_cities: Sequence[int], *, age: Sequence[float] = (23, 64),
                     occupation: Sequence[str] = ("self-employed",),
                     declared_income: Sequence[float] = (20000, 60000),
                     account_type: str = "personal", business_type: str | None = None,
                     business_hours: str | None = None,
                     addresses: Sequence[str | None] | None = None) -> pa.Table:
        """Parties for accounts created by a scenario (one holder each).

        Business accounts get two rows, as in the background: the legal entity
        (holder) and its owner (authorised).  Everything random comes from the
        caller's ``rng`` so the background is unaffected.

        Args:
            rng: The scenario's random stream.
            account_ids: New account ids (namespaced by the scenario).
            home_cities: City index of each account.
            age: Age range of the holders in years.
            occupation: Occupations to draw from.
            declared_income: Range of the declared annual income (or turnover).
            account_type: ``"personal"`` or ``"business"``.
            business_type: Business type for business accounts.
            business_hours: Opening hours for business accounts, e.g. ``"09-18"``.
            addresses: Optional address per account overriding the drawn one
                (``None`` entries keep the drawn address), e.g. to share one.

        Returns:
            A table in :data:`PARTY_SCHEMA`.
        """
        n = len(account_ids)
        city = np.asarray(home_cities, dtype=np.int64)
        people = self._people(rng, city, age)
        if addresses is not None:
            people["address"] = [a if a is not None else d for a, d in zip(addresses, people["address"], strict=True)]
        occ = [str(x) for x in rng.choice(np.array(occupation), n)]
        income = np.round(rng.uniform(float(declared_income[0]), float(declared_income[1]), n), -2)
        opened = _dates(self.start - rng.integers(60, 3000, n))
        rows: dict[str, list[Any]] = {f.name: [] for f in PARTY_SCHEMA}
        for i, acct in enumerate(account_ids):
            common = {"opened_at": opened[i], "account_type": account_type,
                      "business_type": business_type, "business_hours": business_hours,
                      "home_city": self.cities[city[i]].name}
            base = {"account_id": acct, "birth_date": people["birth_date"][i],
                    "address": people["address"][i], "phone": people["phone"][i],
                    "email": people["email"][i]}
            if account_type == "business":
                bname = f"{people['last'][i]} {(business_type or 'trading').replace('_', ' ').upper()} LLC"
                entity = {**base, "party_id": f"{acct}-E", "relation": "holder", "name": bname,
                          "birth_date": None, "occupation": None,
                          "declared_income": float(income[i]), **common}
                owner = {**base, "party_id": f"{acct}-P", "relation": "authorised",
                         "name": people["name"][i], "occupation": occ[i],
                         "declared_income": float(round(income[i] * 0.2, -2)), **common}
                new = [entity, owner]
            else:
                new = [{**base, "party_id": f"{acct}-P", "relation": "holder",
                        "name": people["name"][i], "occupation": occ[i],
                        "declared_income": float(income[i]), **common}]
            for row in new:
                for key, column in rows.items():
                    column.append(row[key])
        return pa.table(rows, schema=PARTY_SCHEMA)

    def branch(self, rng: np.random.Generator, city: int, n: int, distinct: bool = False) -> list[str]:
        """Pick ``n`` bank branches of ``city``; ``distinct`` avoids repeats while possible."""
        branches = self.cities[city].branches
        if distinct:
            order = rng.permutation(len(branches))
            return [branches[order[i % len(branches)]] for i in range(n)]
        return [branches[i] for i in rng.integers(0, len(branches), n)]

    def everyday_activity(self, rng: np.random.Generator, account_ids: Sequence[str],
                          home_cities: Sequence[int], scenario_ids: Sequence[str],
                          daily_prob: float, max_amount: float) -> dict[str, np.ndarray]:
        """Light, ordinary card spending for scenario accounts.

        At most one purchase per account and day (groceries, fast food,
        pharmacy, retail in the home city), so that any 48 h holds at most
        three purchases, i.e. at most ``3 * max_amount`` of spending.

        Args:
            rng: The scenario's random stream.
            account_ids: Accounts that spend.
            home_cities: City index of each account.
            scenario_ids: Scenario id each account's rows are labelled with.
            daily_prob: Probability of a purchase on a given day.
            max_amount: Cap on each purchase.

        Returns:
            Columns suitable for ``TxnBuilder.add(**cols)``.
        """
        n_acc = len(account_ids)
        hit = rng.random((n_acc, self.days)) < daily_prob
        who, day = np.nonzero(hit)
        n = who.size
        keys = ("grocery", "fast_food", "pharmacy", "retail")
        cat = rng.integers(0, len(keys), n)
        city = np.asarray(home_cities, dtype=np.int64)[who]
        merchant = np.empty(n, dtype=object)
        name = np.empty(n, dtype=object)
        mcc = np.empty(n, dtype=object)
        amount = np.empty(n)
        card = self.cfg["card"]
        for c, key in enumerate(keys):
            sel = np.flatnonzero(cat == c)
            acct, names, mcc_code = self.merchants[key]
            k = rng.integers(0, acct.shape[1], sel.size)
            merchant[sel] = self.v_acct.strings(acct[city[sel], k])
            name[sel] = self.v_name.strings(names[city[sel], k])
            mcc[sel] = self.v_mcc[mcc_code]
            amount[sel] = _lognormal(rng, min(float(card[key]["median"]), max_amount / 2),
                                     float(card[key]["sigma"]), sel.size, 1.0, max_amount)
        h0, h1 = 8, 21
        ts = self.t0_us + day * US_PER_DAY + _tod(rng, n, h0, h1)
        return {
            "scenario_id": np.asarray(scenario_ids, dtype=object)[who],
            "ts": ts, "amount": amount, "channel": "card",
            "payer_account": np.asarray(account_ids, dtype=object)[who],
            "beneficiary_account": merchant, "mcc": mcc, "counterparty_name": name,
            "payer_country": "US", "beneficiary_country": "US",
            "city": self.v_city.strings(city), "region": self.v_region.strings(city),
        }

    # ------------------------------------------------------- transactions
    def chunks(self) -> Iterator[tuple[int, int]]:
        """Account ranges ``[lo, hi)`` generated together."""
        size = max(1, int(self.cfg.get("chunk_accounts", 4000)))
        for lo in range(0, self.accounts, size):
            yield lo, min(self.accounts, lo + size)

    def generate_chunk(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        """Coded background transactions of accounts ``[lo, hi)``.

        Each chunk draws from its own stream, so the output does not depend on
        which chunks were generated before it.

        Returns:
            Column name -> numpy array (integer codes into the vocabularies,
            -1 for null); decode with :meth:`decode`.
        """
        rng = np.random.default_rng(np.random.SeedSequence(
            [self.seed, zlib.crc32(b"background"), lo, hi]))
        blocks = _Blocks(self._us)
        idx = np.arange(lo, hi)
        pers = idx[self.profile[idx] != BUSINESS]
        bus = idx[self.profile[idx] == BUSINESS]
        _card_spending(self, rng, blocks, pers)
        _atm(self, rng, blocks, pers)
        _p2p(self, rng, blocks, pers)
        _cash_and_cheques(self, rng, blocks, pers)
        _income(self, rng, blocks, pers)
        _rent_and_utilities(self, rng, blocks, pers)
        _business(self, rng, blocks, bus)
        _trips(self, rng, blocks, pers[self.traveller[pers]])
        _remittances(self, rng, blocks, pers[self.migrant[pers]])
        return blocks.concat()

    def decode(self, coded: Mapping[str, np.ndarray], idx: np.ndarray | None = None) -> pa.Table:
        """Turn coded rows (optionally a selection ``idx``) into an Arrow table.

        Returns:
            A table in :data:`SCENARIO_TXN_SCHEMA` (no ``txn_id``; ``scenario_id`` null).
        """
        def col(name: str) -> np.ndarray:
            arr = coded[name]
            return arr if idx is None else arr[idx]

        chan = col("channel").astype(np.int32)
        arrays = [
            pa.array(col("ts").view("datetime64[us]"), type=pa.timestamp("us")),
            pa.array(col("amount"), type=pa.float64()),
            self.v_currency.take(col("currency")),
            self.v_acct.take(col("payer")),
            self.v_acct.take(col("benef")),
            pa.array(list(CHANNELS), type=pa.string()).take(pa.array(chan)),
            self.v_mcc.take(col("mcc")),
            self.v_name.take(col("cpty")),
            self.v_memo.take(col("memo")),
            self.v_country.take(col("pcountry")),
            self.v_country.take(col("bcountry")),
            self.v_city.take(col("city")),
            self.v_region.take(col("region")),
            self.v_branch.take(col("branch")),
            self.v_atm.take(col("atm")),
            self.v_device.take(col("device")),
            self.v_ip.take(col("ip")),
            pa.array(col("refund"), type=pa.bool_()),
            self.v_scenario.take(col("scenario")),
        ]
        return pa.Table.from_arrays(arrays, schema=SCENARIO_TXN_SCHEMA)

    def encode(self, table: pa.Table) -> dict[str, np.ndarray]:
        """Turn scenario rows (:data:`SCENARIO_TXN_SCHEMA`) into coded columns.

        The inverse of :meth:`decode`: new strings are added to the vocabularies
        (only the distinct values of each column pass through Python), so
        background and scenario rows can be sorted and decoded together.
        """
        def codes(name: str, vocab: Vocab, dtype: type) -> np.ndarray:
            enc = table.column(name).combine_chunks().dictionary_encode()
            lookup = vocab.extend([str(v) for v in enc.dictionary.to_pylist()])
            idx = enc.indices.to_numpy(zero_copy_only=False)
            valid = np.asarray(enc.indices.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            out = np.full(table.num_rows, -1, dtype=dtype)
            out[valid] = lookup[idx[valid].astype(np.int64)]
            return out

        channel = Vocab(list(CHANNELS))
        return {
            "ts": table.column("ts").cast(pa.int64()).to_numpy().astype(np.int64),
            "amount": table.column("amount").to_numpy().astype(np.float64),
            "payer": codes("payer_account", self.v_acct, np.int32),
            "benef": codes("beneficiary_account", self.v_acct, np.int32),
            "channel": codes("channel", channel, np.int8),
            "mcc": codes("mcc", self.v_mcc, np.int16),
            "cpty": codes("counterparty_name", self.v_name, np.int32),
            "memo": codes("memo", self.v_memo, np.int32),
            "pcountry": codes("payer_country", self.v_country, np.int16),
            "bcountry": codes("beneficiary_country", self.v_country, np.int16),
            "city": codes("city", self.v_city, np.int16),
            "branch": codes("branch_id", self.v_branch, np.int32),
            "atm": codes("atm_owner_type", self.v_atm, np.int8),
            "device": codes("device_id", self.v_device, np.int32),
            "ip": codes("ip", self.v_ip, np.int32),
            "refund": table.column("is_refund").to_numpy(zero_copy_only=False).astype(np.bool_),
            "region": codes("region", self.v_region, np.int16),
            "currency": codes("currency", self.v_currency, np.int8),
            "scenario": codes("scenario_id", self.v_scenario, np.int32),
        }

    def _branch_codes(self, city: np.ndarray, pick: np.ndarray, white_label: bool) -> np.ndarray:
        """Codes in ``v_branch`` of a bank branch (or white-label ATM) of each ``city``.

        ``pick`` is any non-negative integer per row, reduced modulo the
        number of branches (ATMs) of the row's city.
        """
        nb = np.array([len(c.branches) for c in self.cities])
        nw = np.array([len(c.white_label_atms) for c in self.cities])
        first = np.concatenate([[0], np.cumsum(nb + nw)[:-1]])
        if white_label:
            return first[city] + nb[city] + pick % nw[city]
        return first[city] + pick % nb[city]


# --------------------------------------------------------------------------
# Background generators; each adds coded blocks for a set of accounts.
# --------------------------------------------------------------------------

def _ts(w: World, day: np.ndarray, tod: np.ndarray) -> np.ndarray:
    """Timestamps on the bank's clock (institutional batches: payroll, settlement)."""
    return w.t0_us + np.asarray(day, dtype=np.int64) * US_PER_DAY + tod


def _ts_local(w: World, day: np.ndarray, tod: np.ndarray, city: np.ndarray) -> np.ndarray:
    """Timestamps of events at local time ``tod`` in ``city``, on the bank's clock.

    A purchase at 21:00 in Las Vegas is recorded at 23:00 Chicago time.  Rows
    shifted out of the period (first/last hours) are clamped into it.
    """
    day = np.asarray(day, dtype=np.int64)
    ts = w.t0_us + day * US_PER_DAY + tod + w.zone_shift[np.asarray(city, dtype=np.int64), day]
    return np.clip(ts, w.t0_us, w.t0_us + w.days * US_PER_DAY - 1)


def _season_days(w: World, rng: np.random.Generator, key: str, n: int) -> np.ndarray:
    """``n`` days drawn with the seasonal weights of ``key`` (times ``all``)."""
    f = w.season[key] * w.season["all"]
    if np.all(f == f[0]):
        return rng.integers(0, w.days, n)
    return rng.choice(w.days, n, p=f / f.sum())


def _season_mean(w: World, key: str) -> float:
    """Mean seasonal multiplier of ``key`` over the period (scales Poisson counts)."""
    return float(np.mean(w.season[key] * w.season["all"]))


def _travel_city(w: World, rng: np.random.Generator, home: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Home city, or a random one with ``travel_prob`` (times the season's ``travel`` factor)."""
    city = home.astype(np.int64)
    away = rng.random(city.size) < float(w.cfg["travel_prob"]) * w.season["travel"][day]
    city[away] = w.pick_cities(rng, int(away.sum()))
    return city


def _card_spending(w: World, rng: np.random.Generator, b: _Blocks, pers: np.ndarray) -> None:
    cfg = w.cfg["card"]
    refund_prob = float(w.cfg["refund_prob"])
    rd = w.cfg["refund_delay_days"]
    for c, (key, _, (h0, h1), _) in enumerate(_CARD_CATEGORIES):
        cc = cfg[key]
        cnt = rng.poisson(float(cc["rate"]) * w.card_rate[pers, c] * w.days * _season_mean(w, key))
        acct = np.repeat(pers, cnt)
        n = acct.size
        day = _season_days(w, rng, key, n)
        city = _travel_city(w, rng, w.home_city[acct], day)
        ts = _ts_local(w, day, _tod(rng, n, h0, h1), city)
        macct, mname, mcc = w.merchants[key]
        k = rng.integers(0, macct.shape[1], n)
        amount = _lognormal(rng, cc["median"], cc["sigma"], n, cc["min"], cc["max"])
        b.add(n, ts=ts, amount=amount, payer=acct, benef=macct[city, k], channel=_CH["card"],
              mcc=mcc, cpty=mname[city, k], city=city)
        # A few purchases are refunded some days later.
        r = np.flatnonzero(rng.random(n) < refund_prob)
        rday = day[r] + rng.integers(int(rd[0]), int(rd[1]) + 1, r.size)
        r, rday = r[rday < w.days], rday[rday < w.days]
        b.add(r.size, ts=_ts_local(w, rday, _tod(rng, r.size, h0, h1), city[r]), amount=amount[r],
              payer=macct[city[r], k[r]], benef=acct[r], channel=_CH["card"], mcc=mcc,
              cpty=mname[city[r], k[r]], city=city[r], refund=True)


def _atm(w: World, rng: np.random.Generator, b: _Blocks, pers: np.ndarray) -> None:
    cfg = w.cfg["atm"]
    cnt = rng.poisson(float(cfg["rate"]) * np.sqrt(w.activity[pers]) * w.days)
    acct = np.repeat(pers, cnt)
    n = acct.size
    weights = np.asarray(cfg["weights"], dtype=float)
    amount = np.asarray(cfg["amounts"], dtype=float)[rng.choice(weights.size, n, p=weights / weights.sum())]
    day = rng.integers(0, w.days, n)
    city = _travel_city(w, rng, w.home_city[acct], day)
    wl = rng.random(n) < float(cfg["white_label_share"])
    pick = rng.integers(0, 1 << 30, n)
    branch = np.where(wl, w._branch_codes(city, pick, True), w._branch_codes(city, pick, False))
    b.add(n, ts=_ts_local(w, day, _tod(rng, n, 7, 23), city), amount=amount,
          payer=acct, channel=_CH["atm"], city=city, branch=branch, atm=wl.astype(np.int8))


def _p2p(w: World, rng: np.random.Generator, b: _Blocks, pers: np.ndarray) -> None:
    cfg = w.cfg["p2p"]
    cnt = rng.poisson(float(cfg["rate"]) * w.days, pers.size)
    acct = np.repeat(pers, cnt)
    n = acct.size
    if w.personal_idx.size < 2:
        return
    to = w.personal_idx[rng.integers(0, w.personal_idx.size, n)]
    to = np.where(to == acct, w.personal_idx[(np.searchsorted(w.personal_idx, to) + 1)
                                             % w.personal_idx.size], to)
    memo = np.where(rng.random(n) < 0.6, w.p2p_memos[rng.integers(0, w.p2p_memos.size, n)], -1)
    amount = np.round(_lognormal(rng, cfg["median"], cfg["sigma"], n, cfg["min"], cfg["max"]))
    b.add(n, ts=_ts_local(w, rng.integers(0, w.days, n), _tod(rng, n, 8, 23), w.home_city[acct]),
          amount=amount, payer=acct, benef=to, channel=_CH["p2p"], memo=memo, device=w.device[acct], ip=w.ip[acct])


def _cash_and_cheques(w: World, rng: np.random.Generator, b: _Blocks, pers: np.ndarray) -> None:
    cfg = w.cfg["cash_deposit"]
    acct = np.repeat(pers, rng.poisson(float(cfg["rate"]) * w.days, pers.size))
    n = acct.size
    city = w.home_city[acct].astype(np.int64)
    amount = np.round(_lognormal(rng, cfg["median"], cfg["sigma"], n, cfg["min"], cfg["max"]), -1)
    b.add(n, ts=_ts_local(w, rng.integers(0, w.days, n), _tod(rng, n, 9, 17), city), amount=amount,
          benef=acct, channel=_CH["cash"], city=city,
          branch=w._branch_codes(city, rng.integers(0, 1 << 30, n), False))
    cfg = w.cfg["cheque"]
    acct = np.repeat(pers, rng.poisson(float(cfg["rate"]) * w.days, pers.size))
    n = acct.size
    b.add(n, ts=_ts(w, rng.integers(0, w.days, n), _tod(rng, n, 9, 18)),
          amount=_lognormal(rng, cfg["median"], cfg["sigma"], n, cfg["min"], cfg["max"]),
          payer=acct, benef=w.cheque_acct[rng.integers(0, w.cheque_acct.size, n)],
          channel=_CH["cheque"])


def _income(w: World, rng: np.random.Generator, b: _Blocks, pers: np.ndarray) -> None:
    # Payroll: every account of an employer is paid on the employer's pay days.
    for e, paydays in enumerate(w.employer_paydays):
        acct = pers[w.employer[pers] == e]
        if acct.size == 0 or paydays.size == 0:
            continue
        a = np.repeat(acct, paydays.size)
        day = np.tile(paydays, acct.size)
        n = a.size
        amount = w.pay[a]
        student = w.profile[a] == STUDENT  # hourly part-time pay varies
        amount = np.round(np.where(student, amount * rng.uniform(0.85, 1.0, n), amount), 2)
        b.add(n, ts=_ts(w, day, _tod(rng, n, 2, 6)), amount=amount, payer=w.employer_acct[e],
              benef=a, channel=_CH["ach"], cpty=w.employer_name[e], memo=w.employer_memo[e])
    pen = pers[w.profile[pers] == PENSIONER]
    rows, day = w._monthly(np.full(pen.size, 3), business_day=True)
    a = pen[rows]
    b.add(a.size, ts=_ts(w, day, _tod(rng, a.size, 2, 6)), amount=w.pay[a], payer=w.pension_acct,
          benef=a, channel=_CH["ach"], cpty=w.pension_name, memo=w.pension_memo)
    stu = pers[w.profile[pers] == STUDENT]
    rows, day = w._monthly(w.allowance_day[stu])
    a = stu[rows]
    n = a.size
    b.add(n, ts=_ts_local(w, day, _tod(rng, n, 9, 22), w.home_city[a]),
          amount=np.round(w.allowance[a] * rng.uniform(0.9, 1.1, n), -1),
          payer=w.parent_acct[a], benef=a, channel=_CH["p2p"],
          memo=np.where(rng.random(n) < 0.5, w.allowance_memo, -1))


def _rent_and_utilities(w: World, rng: np.random.Generator, b: _Blocks, pers: np.ndarray) -> None:
    renters = pers[w.rent[pers] > 0]
    rows, day = w._monthly(w.rent_day[renters])
    a = renters[rows]
    n = a.size
    city = w.home_city[a]
    b.add(n, ts=_ts_local(w, day, _tod(rng, n, 8, 22), city), amount=w.rent[a],
          payer=a, benef=w.landlord_acct[city, w.landlord[a]], channel=_CH["transfer"],
          cpty=w.landlord_name[city, w.landlord[a]], memo=w.rent_memo,
          device=w.device[a], ip=w.ip[a])
    rows, day = w._monthly(w.utility_day[pers])
    a = pers[rows]
    n = a.size
    city = w.home_city[a].astype(np.int64)
    b.add(n, ts=_ts(w, day, _tod(rng, n, 0, 24)),
          amount=np.round(w.utility_level[a] * rng.uniform(0.8, 1.2, n), 2), payer=a,
          benef=w.utility_acct[city], channel=_CH["card"], mcc=w.utility_mcc,
          cpty=w.utility_name[city], city=city)


def _business(w: World, rng: np.random.Generator, b: _Blocks, bus: np.ndarray) -> None:
    if bus.size == 0:
        return
    cfg = w.cfg["business"]
    days = np.arange(w.days)
    wd = w.weekday(days)
    open_days = days[(wd >= 1) & (wd <= 5)]  # Tuesday to Saturday
    a = np.repeat(bus, open_days.size)
    day = np.tile(open_days, bus.size)
    n = a.size
    city = w.home_city[a].astype(np.int64)
    rev = w.daily_revenue[a] * rng.lognormal(0.0, 0.15, n)
    lo, hi = cfg["deposit_clip"]
    cash = np.round(np.clip(rev * w.cash_share[a] * rng.lognormal(0.0, cfg["deposit_sigma"], n),
                            lo, hi))
    # Mostly the business's own branch, sometimes another one in town.
    pick = np.where(rng.random(n) < 0.85, w.main_branch[a], rng.integers(0, 1 << 30, n))
    b.add(n, ts=_ts_local(w, day, _tod(rng, n, 16, 19.5), city), amount=cash, benef=a, channel=_CH["cash"],
          city=city, branch=w._branch_codes(city, pick, False))
    # Card takings settle overnight, 01:00-03:00 the next day.
    settle = np.round(rev * (1 - w.cash_share[a]) * rng.lognormal(0.0, cfg["settlement_sigma"], n), 2)
    keep = day + 1 < w.days
    m = int(keep.sum())
    b.add(m, ts=_ts(w, day[keep] + 1, _tod(rng, m, 1, 3)), amount=np.maximum(settle[keep], 1.0),
          payer=w.acquirer_acct, benef=a[keep], channel=_CH["ach"], cpty=w.acquirer_name,
          memo=w.settlement_memo)
    # Supplies: at most one small card purchase per trading day.
    sc = cfg["supplies"]
    s = np.flatnonzero(rng.random(n) < float(cfg["supplies_prob"]))
    macct, mname, mcc = w.wholesale
    k = rng.integers(0, macct.shape[1], s.size)
    b.add(s.size, ts=_ts_local(w, day[s], _tod(rng, s.size, 8, 11), city[s]),
          amount=_lognormal(rng, sc["median"], sc["sigma"], s.size, sc["min"], sc["max"]),
          payer=a[s], benef=macct[city[s], k], channel=_CH["card"], mcc=mcc,
          cpty=mname[city[s], k], city=city[s])

    # Monthly batch on the first Tuesday, 07:00-08:00: more than 48 h after the
    # last takings (Saturday evening deposit, Sunday night settlement).
    first_tue = w.month_first + (1 - w.weekday(w.month_first)) % 7
    first_tue = first_tue[(first_tue >= 0) & (first_tue < w.days)]
    a = np.repeat(bus, first_tue.size)
    day = np.tile(first_tue, bus.size)
    n = a.size
    city = w.home_city[a].astype(np.int64)
    monthly = w.daily_revenue[a] * 21.7
    bt = w.btype[a].astype(np.int64)

    def batch(share: str, **cols: Any) -> None:
        amount = np.round(monthly * w.shares[share][a] * rng.uniform(0.9, 1.1, n), 2)
        b.add(n, ts=_ts(w, day, _tod(rng, n, 7, 8)), amount=amount, payer=a, **cols)

    online = {"device": w.device[a], "ip": w.ip[a]}
    batch("rent", benef=w.clandlord_acct[city, w.clandlord[a]], channel=_CH["transfer"],
          cpty=w.clandlord_name[city, w.clandlord[a]], memo=w.rent_memo, **online)
    wire = rng.random(n) < 0.5  # the rest go by ACH, which carries no session data
    batch("supplier", benef=w.supplier_acct[bt, w.supplier[a]],
          channel=np.where(wire, _CH["wire"], _CH["ach"]),
          cpty=w.supplier_name[bt, w.supplier[a]], memo=w.invoice_memo,
          device=np.where(wire, w.device[a], -1), ip=np.where(wire, w.ip[a], -1))
    batch("payroll", benef=w.payprov_acct, channel=_CH["ach"], cpty=w.payprov_name,
          memo=w.payprov_memo)
    batch("utilities", benef=w.utility_acct[city], channel=_CH["ach"], cpty=w.utility_name[city],
          memo=w.utility_memo)
    batch("owner_draw", benef=w.business_owner[a], channel=_CH["transfer"], memo=w.draw_memo,
          **online)




def _trips(w: World, rng: np.random.Generator, b: _Blocks, trav: np.ndarray) -> None:
    """Business trips of frequent travellers: flight, hotel, car, meals and rides in another city.

    Trips follow each other with at least ``min_gap_days`` at home, and the hotel
    is charged once at check-out, so at most three stays fall in any 14 days
    (the lodging rule wants four charges in two cities).  Work travel is
    regular (the time at home varies uniformly around its mean) and not
    seasonal: the ``travel`` season applies to leisure travel (``travel_prob``).
    """
    if trav.size == 0:
        return
    cfg = w.cfg["travellers"]
    n0, n1 = (int(x) for x in cfg["nights"])
    gap0 = float(cfg["min_gap_days"])
    mean_cycle = 30.0 / float(cfg["trips_per_month"])
    # Enough slots to cover the period even with the shortest cycles.
    slots = int(w.days // (n0 + gap0)) + 2
    nights = rng.integers(n0, n1 + 1, (trav.size, slots))
    extra = rng.uniform(0, 2 * max(mean_cycle - gap0 - (n0 + n1) / 2, 0.5), (trav.size, slots))
    cycle = nights + gap0 + np.floor(extra)
    start = np.floor(rng.uniform(0, mean_cycle, (trav.size, 1))) + np.cumsum(cycle, axis=1) - cycle
    start = start.astype(np.int64)
    row, col = np.nonzero(start + nights < w.days)
    acct = trav[row]
    day0, nts = start[row, col], nights[row, col]
    n = acct.size
    home = w.home_city[acct].astype(np.int64)
    nc = len(w.cities)
    dest = w.pick_cities(rng, n)
    dest = np.where(dest == home, (dest + 1 + rng.integers(0, nc - 1, n)) % nc, dest)
    day_out = day0 + nts
    # Flight booked online at home 2-20 days before (or on the first day of the period).
    booked = np.maximum(day0 - rng.integers(2, 21, n), 0)
    macct, mname, mcc = w.airlines
    k = rng.integers(0, macct.shape[1], n)
    b.add(n, ts=_ts_local(w, booked, _tod(rng, n, 8, 22), home), payer=acct, benef=macct[home, k],
          amount=_lognormal(rng, float(cfg["airfare_median"]), 0.45, n, 79, 1400), channel=_CH["card"],
          mcc=mcc, cpty=mname[home, k], city=home)
    # Hotel at check-out, 07:00-11:00 local.
    macct, mname, mcc = w.hotels
    k = rng.integers(0, macct.shape[1], n)
    rate = _lognormal(rng, float(cfg["hotel_night_median"]), 0.35, n, 79, 450)
    b.add(n, ts=_ts_local(w, day_out, _tod(rng, n, 7, 11), dest), payer=acct, benef=macct[dest, k],
          amount=np.round(rate * nts, 2), channel=_CH["card"], mcc=mcc, cpty=mname[dest, k], city=dest)
    # Car rental on some trips, charged on return.
    car = np.flatnonzero(rng.random(n) < float(cfg["car_rental_prob"]))
    macct, mname, mcc = w.car_rental
    k = rng.integers(0, macct.shape[1], car.size)
    b.add(car.size, ts=_ts_local(w, day_out[car], _tod(rng, car.size, 8, 12), dest[car]), payer=acct[car],
          benef=macct[dest[car], k], amount=np.round(_lognormal(rng, 55, 0.3, car.size, 30, 120) * (nts[car] + 1), 2),
          channel=_CH["card"], mcc=mcc, cpty=mname[dest[car], k], city=dest[car])
    # Meals: one or two restaurant bills a day away, lunch to late dinner.
    meals = rng.integers(1, 3, n) * (nts + 1)
    r = np.repeat(np.arange(n), meals)
    m = r.size
    mday = day0[r] + np.floor(rng.uniform(0, nts[r] + 1)).astype(np.int64)
    macct, mname, mcc = w.merchants["restaurant"]
    k = rng.integers(0, macct.shape[1], m)
    b.add(m, ts=_ts_local(w, mday, _tod(rng, m, 12, 22.5), dest[r]), payer=acct[r], benef=macct[dest[r], k],
          amount=_lognormal(rng, 42, 0.5, m, 8, 220), channel=_CH["card"], mcc=mcc, cpty=mname[dest[r], k],
          city=dest[r])
    # Rides to and from the airport: arrival (sometimes late) and departure.
    macct, mname, mcc = w.merchants["taxi"]
    for when, h0, h1 in ((day0, 9, 23.5), (day_out, 6, 19)):
        k = rng.integers(0, macct.shape[1], n)
        b.add(n, ts=_ts_local(w, when, _tod(rng, n, h0, h1), dest), payer=acct, benef=macct[dest, k],
              amount=_lognormal(rng, 38, 0.35, n, 15, 120), channel=_CH["card"], mcc=mcc, cpty=mname[dest, k],
              city=dest)


def _remittances(w: World, rng: np.random.Generator, b: _Blocks, mig: np.ndarray) -> None:
    """One wire home a month on a fixed mid-month day, larger in festive months.

    The season's ``remittance`` factor scales the amount, not the count: a
    second wire in a month would put three within 30 days next to the
    neighbouring months' wires, which is what the remittance rule looks for.
    """
    if mig.size == 0:
        return
    cfg = w.cfg["migrants"]
    rows, day = w._monthly(w.remit_day[mig])
    a = mig[rows]
    n = a.size
    memo = np.where(rng.random(n) < float(cfg["memo_prob"]), w.remit_memos[rng.integers(0, w.remit_memos.size, n)], -1)
    amount = w.remit_level[a] * rng.uniform(0.85, 1.15, n) * w.season["remittance"][day]
    b.add(n, ts=_ts_local(w, day, _tod(rng, n, 9, 21), w.home_city[a]),
          amount=np.round(np.minimum(amount, float(cfg["max"])), 0), payer=a, benef=w.remit_acct[a],
          bcountry=w.origin[a], channel=_CH["wire"], cpty=w.mto_name[w.remit_mto[a]], memo=memo,
          device=w.device[a], ip=w.ip[a])
