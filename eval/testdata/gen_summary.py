"""Writes summary.json: for every case of golden.json, the sample standard
deviation of the images' AUCs (Python's statistics.stdev) and the ABPC of
the mean curves of the matching MoRF and LRF cases, for eval.Summarize and
eval.ABPC. Run: /usr/bin/python3 gen_summary.py (plain Python)."""
import json
import statistics

d = json.load(open("golden.json"))
out = {"auc_std": [], "abpc": {}}
for c in d["cases"]:
    out["auc_std"].append(statistics.stdev(c["aucs"]))
for c in d["cases"]:
    if c["order"] == "lrf":
        m = [x for x in d["cases"] if x["order"] == "morf" and (x["mode"], x["patch"], x["steps"]) == (c["mode"], c["patch"], c["steps"])][0]
        out["abpc"]["%s/p%d/S%d" % (c["mode"], c["patch"], c["steps"])] = c["auc"] - m["auc"]
with open("summary.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
