"""What every emulated surface shares: the clock, faults and counts (`runtime`), Google's error
body (`errors`), proto-JSON request parsing (`protojson`), list paging (`paging`),
long-running operations (`lro`), the "model" that answers from examples (`generation`) and the
request wrapper every HTTP handler goes through (`http`)."""
