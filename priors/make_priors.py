#!/usr/bin/env python3
"""Rebuilds the prior networks in this folder (regulator<TAB>target edge files for graphify --prior).

Usage:  python3 make_priors.py SOURCES [-o OUTDIR] [--orthologs TABLE] [--unverified]

SOURCES is a folder holding the source tables under these names:
  trrust/trrust_rawdata.human.tsv   TRRUST v2 human: TF, target, mode, PubMed ids; tab-separated, no header
  trrust/trrust_rawdata.mouse.tsv   TRRUST v2 mouse, same layout
  dorothea/dorothea_hs.csv.gz       DoRothEA human regulons (the `dorothea_hs` tibble of the R package's
                                    data/dorothea_hs.rda as CSV, header tf,confidence,target,mor; plain or gzip)
  dorothea/dorothea_mm.csv.gz       DoRothEA mouse regulons (`dorothea_mm`), same layout
  collectri/collectri_human.csv     CollecTRI human in decoupler's get_collectri(organism='human',
                                    split_complexes=False) layout: header source,target,weight,PMID
TABLE is the mouse -> human ortholog table (default: ../data/orthologs/mouse_human.tsv beside this
script), used for collectri_mouse.tsv only. OUTDIR defaults to this script's folder.

Every input's sha256 is checked against the release named in RELEASES below; --unverified accepts
other files and says so in the output headers. Output: `#` comment lines (source, commit, licence,
filter, counts), then one `regulator<TAB>target` line per distinct pair, sorted by regulator then
target (code-point order), symbols exactly as the source spells them. Self-loops are kept when the
source has them (the header counts them; graphify drops self-loops itself). The same inputs always
give byte-identical outputs.
"""
import argparse
import csv
import gzip
import hashlib
import io
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))

TRRUST = {"name": "TRRUST v2", "repo": "juexinwang/GRGNN", "commit": "134728b376c2a25f250473729c560b7df264fedb",
          "licence": "CC BY-SA 4.0 (TRRUST v2)",
          "cite": "Han et al. 2018, Nucleic Acids Res. 46:D380 (TRRUST v2)"}
DOROTHEA = {"name": "DoRothEA", "repo": "saezlab/dorothea", "commit": "1461fb75e23e110c2281860526d4333920925282",
            "licence": "GPL-3.0 (DoRothEA R package)",
            "cite": "Garcia-Alonso et al. 2019, Genome Res. 29:1363; mouse: Holland et al. 2020, "
                    "BBA Gene Regul. Mech. 1863:194431"}
COLLECTRI = {"name": "CollecTRI", "repo": "hengkp/collectri_v_dorothea",
             "commit": "4f324289d89b9a953867d2e4c7a4555e17f98b53",
             "licence": "CollecTRI: freely available to the community; the resources it integrates keep their "
                        "own licences (see priors/README.md)",
             "cite": "Mueller-Dott et al. 2023, Nucleic Acids Res. 51:10934"}

# file under SOURCES -> (provenance, path in the source repository, known sha256 of the file read here)
RELEASES = {
    "trrust/trrust_rawdata.human.tsv": (TRRUST, "data/trrust_rawdata.human.tsv",
        "9b909319ccc8e36588b5a1bd3640e0dfba03936c6fc154cc4304d742bec11bed"),
    "trrust/trrust_rawdata.mouse.tsv": (TRRUST, "data/trrust_rawdata.mouse.tsv",
        "4847c960c7c2ce0173b056184137b1cc71e8d61d1b1edc825247504ad882dd55"),
    "dorothea/dorothea_hs.csv.gz": (DOROTHEA, "data/dorothea_hs.rda (tibble dorothea_hs; .rda sha256 "
        "fd7512dd18f0efcf01be210b652472bf750d70da5c91af12dab455919033f9b0)",
        "032b5b079d5462edd729b92e1a1c19c48c5654bf1267a054228f4b32f28afab3"),
    "dorothea/dorothea_mm.csv.gz": (DOROTHEA, "data/dorothea_mm.rda (tibble dorothea_mm; .rda sha256 "
        "1b6ba7e8c887b794ebd7432c12f8eeff783582a3f7460d11c3a440de8f2f60a5)",
        "b63a6693644885e11b2c4713f1161007476d4c8317ed2b364c76cb54e8090895"),
    "collectri/collectri_human.csv": (COLLECTRI, "datasets/collectri.csv (decoupler get_collectri, human, "
        "complexes not split)",
        "4e2fa22d530c6a1169b4814249b1e2cdb8a9bbaae8f2c81359716ba344fa7735"),
}


class Source:
    def __init__(self, root, rel, unverified):
        self.rel = rel
        self.path = os.path.join(root, rel)
        with open(self.path, "rb") as f:
            self.raw = f.read()
        self.sha256 = hashlib.sha256(self.raw).hexdigest()
        self.prov, self.repo_path, known = RELEASES[rel]
        self.verified = self.sha256 == known
        if not self.verified and not unverified:
            sys.exit(f"{self.path}: sha256 {self.sha256} is not that of the release named in RELEASES "
                     f"({self.prov['repo']} @{self.prov['commit']}); pass --unverified to use it anyway")

    def text(self):
        data = gzip.decompress(self.raw) if self.raw[:2] == b"\x1f\x8b" else self.raw
        return data.decode("utf-8")

    def header_lines(self):
        p = self.prov
        check = "" if self.verified else " -- NOT the file of the release named above"
        return [f"# source: {p['name']}, {p['repo']} @{p['commit']}, {self.repo_path}",
                f"# source file sha256: {self.sha256}{check}",
                f"# licence: {p['licence']}",
                f"# cite: {p['cite']}"]


def read_trrust(src):
    pairs = set()
    for n, line in enumerate(src.text().splitlines(), 1):
        if not line:
            continue
        f = line.split("\t")
        if len(f) != 4 or not f[0] or not f[1]:
            sys.exit(f"{src.path}:{n}: expected TF, target, mode, PMIDs")
        pairs.add((f[0], f[1]))
    return pairs


def read_dorothea(src, levels):
    rows = csv.DictReader(io.StringIO(src.text()))
    if rows.fieldnames[:4] != ["tf", "confidence", "target", "mor"]:
        sys.exit(f"{src.path}: expected header tf,confidence,target,mor, found {rows.fieldnames}")
    return {(r["tf"], r["target"]) for r in rows if r["confidence"] in levels}


def read_collectri(src):
    rows = csv.DictReader(io.StringIO(src.text()))
    if rows.fieldnames[:2] != ["source", "target"]:
        sys.exit(f"{src.path}: expected header source,target,..., found {rows.fieldnames}")
    return {(r["source"], r["target"]) for r in rows}


def read_one2one(path):
    """human symbol -> mouse symbol for the pairs of type one2one in mouse_human.tsv."""
    human_to_mouse = {}
    header = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if header is None:
                header = fields
                continue
            row = dict(zip(header, fields))
            if row["type"] == "one2one":
                human_to_mouse[row["human"]] = row["mouse"]
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return human_to_mouse, digest


def stats(pairs):
    return {"edges": len(pairs), "regulators": len({r for r, _ in pairs}),
            "targets": len({t for _, t in pairs}), "self_loops": sum(r == t for r, t in pairs)}


def write(outdir, name, title, header, filt, pairs):
    s = stats(pairs)
    loops = (f"{s['self_loops']} self-loops, kept as in the source" if s["self_loops"]
             else "no self-loops (none in the source)")
    lines = [f"# scgrn prior network: {title}"] + header + [
        f"# filter: {filt}",
        f"# edges: {s['edges']} distinct regulator-target pairs; {s['regulators']} regulators, "
        f"{s['targets']} targets; {loops}",
        "# format: regulator<TAB>target, sorted; made by make_priors.py (see README.md)",
    ]
    lines += [f"{r}\t{t}" for r, t in sorted(pairs)]
    path = os.path.join(outdir, name)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    return path, s


def check(path):
    """Every non-comment line: exactly two non-empty tab-separated fields; distinct and sorted."""
    prev = None
    n = 0
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2 or not all(x and x == x.strip() for x in fields):
                sys.exit(f"{path}:{i}: not regulator<TAB>target")
            pair = tuple(fields)
            if prev is not None and pair <= prev:
                sys.exit(f"{path}:{i}: not sorted or duplicated")
            prev = pair
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", help="folder with trrust/, dorothea/, collectri/ source tables")
    ap.add_argument("-o", "--outdir", default=HERE)
    ap.add_argument("--orthologs", default=os.path.join(HERE, "..", "data", "orthologs", "mouse_human.tsv"))
    ap.add_argument("--unverified", action="store_true", help="accept inputs whose sha256 is not the known one")
    args = ap.parse_args()
    src = {rel: Source(args.sources, rel, args.unverified) for rel in RELEASES}
    made = []

    for sp, rel in (("human", "trrust/trrust_rawdata.human.tsv"), ("mouse", "trrust/trrust_rawdata.mouse.tsv")):
        s = src[rel]
        made.append(write(args.outdir, f"trrust_{sp}.tsv", f"TRRUST v2, {sp}", s.header_lines(),
                          "none: every TF-target pair of every mode (Activation, Repression, Unknown); "
                          "mode and PubMed ids dropped, duplicate pairs merged", read_trrust(s)))

    for sp, rel in (("human", "dorothea/dorothea_hs.csv.gz"), ("mouse", "dorothea/dorothea_mm.csv.gz")):
        s = src[rel]
        made.append(write(args.outdir, f"dorothea_{sp}.tsv", f"DoRothEA, {sp}, confidence A-C", s.header_lines(),
                          "confidence level A, B or C (D and E dropped); mode of regulation (mor) dropped",
                          read_dorothea(s, {"A", "B", "C"})))

    s = src["collectri/collectri_human.csv"]
    human = read_collectri(s)
    made.append(write(args.outdir, "collectri_human.tsv", "CollecTRI, human", s.header_lines(),
                      "none: every source-target pair; sign (weight) and PubMed ids dropped. The regulators "
                      "AP1 and NFKB are protein complexes, not gene symbols, as in the source",
                      human))

    h2m, ortho_sha = read_one2one(args.orthologs)
    mouse = {(h2m[r], h2m[t]) for r, t in human if r in h2m and t in h2m}
    kept = sum(1 for r, t in human if r in h2m and t in h2m)
    made.append(write(args.outdir, "collectri_mouse.tsv", "CollecTRI, mouse -- DERIVED here from CollecTRI human "
                      "by one-to-one orthologs (not a mouse release of CollecTRI)",
                      s.header_lines() + [f"# orthologs: data/orthologs/mouse_human.tsv (Ensembl 105 via "
                                          f"Teichlab/celltypist, MIT), sha256 {ortho_sha}"],
                      f"each human symbol replaced by its mouse symbol where the pair is one2one in the ortholog "
                      f"table; edges with an unmapped end (including the complexes AP1 and NFKB) dropped: "
                      f"{kept} of {len(human)} human edges kept", mouse))

    print("file\tedges\tregulators\ttargets\tself_loops\tsha256", file=sys.stderr)
    for path, st in made:
        n = check(path)
        assert n == st["edges"]
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print(f"{os.path.basename(path)}\t{st['edges']}\t{st['regulators']}\t{st['targets']}\t"
              f"{st['self_loops']}\t{digest}", file=sys.stderr)


if __name__ == "__main__":
    main()
