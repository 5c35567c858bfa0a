#!/usr/bin/python3
# A PanDA phpo-style payload, unchanged: reads the point from input.json in
# the work dir, writes {"status": 0, "loss": ...} to output.json.
import json

with open("input.json") as f:
    p = json.load(f)
loss = (p["x"] - 2.0) ** 2 + 0.5
with open("output.json", "w") as f:
    json.dump({"status": 0, "loss": loss}, f)
