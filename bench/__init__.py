"""tunebot's benchmarks: `python -m bench` runs them all and prints one table.

Each module is one measurement and returns a `Section` of table rows, each with a
baseline measured in the same run:

- `ack_latency`: slash-command ack latency (50 concurrent signed `/tune` requests);
- `poll_cycle`: one poll cycle over 1,000 active jobs with 50 ms API latency;
- `dataset_validation`: validating a 100,000-example file, time and peak RSS;
- `idle_rss`: idle RSS of `tunebot run` in HTTP mode.
"""
