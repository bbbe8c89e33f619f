"""The columns that identify a score row, shared by every scoring module."""

# one unit in one year, with the comparison group it is ranked in
UNIT_KEYS = ["unit_id", "year", "group_id"]
# one leaf in one comparison group and year: what group statistics (min, max, mean) run over
GROUP_KEYS = ["year", "group_id", "node_id"]
