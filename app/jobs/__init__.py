"""RQ jobs. Jobs take ids, never ORM objects, and must be safe to run twice."""
