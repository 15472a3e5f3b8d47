"""Output safety: what the program refuses to read or write.

:mod:`.nin` detects national identity numbers, :mod:`.privacy` scans every
file a command writes before it is moved into place, and :mod:`.atomic`
writes outputs through a temporary folder so that a run either replaces its
output whole or leaves the previous one untouched. :mod:`.owned` decides what
a run may replace at all (only what ``opr`` wrote, never the extract, the key
store, the working folder, home or the repository) and lets one writer at a
time at a target; :mod:`.limits` refuses hostile input files (the one
guarded YAML loader: aliases, deep nesting, huge files, other encodings,
identity numbers; zip bombs; over-long cells) and :mod:`.schema` checks what
a user's YAML file means (one pydantic schema per kind of file, errors in
Norwegian). :mod:`.oserror` turns what the operating system refuses (a full
disk above all) into one Norwegian sentence, and :mod:`.markup` escapes data
quoted into Markdown or HTML.
"""
