#!/usr/bin/python3
"""The dashboard's string catalogue (data/web/i18n.json) is complete, as
tests/check-po.sh keeps po/es.po complete: English and Spanish have the
same keys, none empty, the same {n} placeholders, and every key the page
uses literally (t('key'), data-i18n="key") is there.

    check-i18n.py SOURCE_DIR
"""
import json
import re
import sys

src = sys.argv[1]
cat = json.load(open(f"{src}/data/web/i18n.json", encoding="utf-8"))
js = open(f"{src}/data/web/app.js", encoding="utf-8").read()
html = open(f"{src}/data/web/index.html", encoding="utf-8").read()
bad = []
if set(cat) != {"en", "es"}:
    bad.append(f"languages are {sorted(cat)}, not en and es")
for key in sorted(set(cat["en"]) | set(cat["es"])):
    en, es = cat["en"].get(key), cat["es"].get(key)
    if not en or not es:
        bad.append(f"{key}: missing or empty in {'en' if not en else 'es'}")
    elif sorted(re.findall(r"\{\d\}", en)) != sorted(re.findall(r"\{\d\}", es)):
        bad.append(f"{key}: placeholders differ")
used = set(re.findall(r"\bt\('([a-z_]+)'", js)) | set(re.findall(r'data-i18n(?:-label)?="([a-z_]+)"', html))
# Keys built at run time: a prefix and a known set of suffixes.
for prefix, names in [("st_", "starting running stopping exited failed stopped"), ("done_", "stop restart remove"),
                      ("f_", "command name cwd env restart restart_max memory_max cpu_quota tasks_max stop_timeout_ms"
                             " kind calendar cron timezone interval_s overlap timeout_s replicas max_unavailable"
                             " metric target min max"),
                      ("res_", "running exited failed stopped timeout skipped"), ("sst_", "active paused"),
                      ("ov_", "skip queue parallel replace")]:
    used |= {prefix + n for n in names.split()}
for key in sorted(used - set(cat["en"])):
    bad.append(f"{key}: used by the page, not in the catalogue")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
