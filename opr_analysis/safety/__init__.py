"""Output safety: what the program refuses to read or write.

:mod:`.nin` detects national identity numbers, :mod:`.privacy` scans every
file a command writes before it is moved into place, and :mod:`.atomic`
writes outputs through a temporary folder so that a run either replaces its
output whole or leaves the previous one untouched.
"""
