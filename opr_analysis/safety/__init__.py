"""Output safety: what the program refuses to read or write.

:mod:`.nin` detects national identity numbers, :mod:`.privacy` scans every
file a command writes before it is moved into place, and :mod:`.atomic`
writes outputs through a temporary folder so that a run either replaces its
output whole or leaves the previous one untouched. :mod:`.owned` decides what
a run may replace at all (only what ``opr`` wrote, never the extract, the key
store, the working folder, home or the repository) and lets one writer at a
time at a target; :mod:`.limits` refuses hostile input files (YAML aliases,
zip bombs, over-long cells).
"""
