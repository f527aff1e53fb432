#!/usr/bin/env python3
"""Writes a realistic partner directory as CSV: partners.csv and members.csv.

usage: gen_directory.py MEMBERS OUT_DIR [PARTNERS] [opt-in]
With `opt-in`, every member has opted in to email (an `email_opt_in` column) and has a
mobile number (`phone`), so a
release queues an email for each. Deterministic (fixed seed), so every run imports the same data.
"""
import csv
import random
import sys
from pathlib import Path

members = int(sys.argv[1])
out = Path(sys.argv[2])
partners = int(sys.argv[3]) if len(sys.argv) > 3 else max(1, members // 100)
opt_in = len(sys.argv) > 4 and sys.argv[4] == "opt-in"
out.mkdir(parents=True, exist_ok=True)
rng = random.Random(2026)

types = ["distributor", "reseller", "dealer", "referral", "implementation", "msp", "agency"]
tiers = ["strategic", "growth", "standard", "registered"]
markets = [("US", "amer", "en-US", "America/Chicago"), ("DE", "emea", "de-DE", "Europe/Berlin"),
           ("FR", "emea", "fr-FR", "Europe/Paris"), ("BR", "latam", "pt-BR", "America/Sao_Paulo"),
           ("JP", "apac", "ja-JP", "Asia/Tokyo"), ("ES", "emea", "es-ES", "Europe/Madrid")]
roles = ["sales", "marketing", "technical", "support", "operations", "finance", "executive"]

with open(out / "partners.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["external_id", "name", "partner_type", "tier", "region", "country", "lifecycle_stage", "certified"])
    for p in range(partners):
        country, region, _, _ = markets[p % len(markets)]
        w.writerow([f"P-{p:06d}", f"Partner {p}", rng.choice(types), rng.choice(tiers), region, country,
                    rng.choice(["onboarding", "active", "at_risk", "dormant"]), rng.choice(["yes", "no"])])

with open(out / "members.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["external_id", "partner_external_id", "email", "name", "roles", "locale", "time_zone", "status",
                "last_seen_at", "trained", "certification_level"] + (["email_opt_in", "lawful_basis", "consent_text_version", "phone"] if opt_in else []))
    for m in range(members):
        p = m % partners
        _, _, locale, zone = markets[p % len(markets)]
        member_roles = ";".join(sorted(set(rng.sample(roles, rng.choice([1, 1, 2])))))
        w.writerow([f"U-{m:08d}", f"P-{p:06d}", f"user{m}@partner{p}.example", f"Member {m}", member_roles, locale,
                    zone, "active", f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}",
                    rng.choice(["true", "false"]), str(rng.randint(0, 3))] + (["yes", "consent", "2026-01", f"+1555{m:07d}"] if opt_in else []))
