"""Recordings: Jibri's notice, pulling and storing files, access, who appears where."""
