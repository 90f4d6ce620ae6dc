"""`make bench`: the exam-day load on one 2-core machine (see README, "Benchmark")."""
