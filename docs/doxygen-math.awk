# Doxygen input filter for the Markdown documents (docs/Doxyfile.in,
# FILTER_PATTERNS). The documents write formulas the way GitHub renders
# them, so they stay readable there:
#   ```math            display formula (a fenced block)
#   ...
#   ```
#   $`x^T y`$          inline formula
# Doxygen knows neither form; it wants \f[ ... \f] and \f$ ... \f$.
#
# Links within a document, [Exit status](#exit-status), use GitHub's
# anchors (the heading, lower-cased, punctuation dropped, spaces as
# hyphens). Doxygen makes other anchors, and its labels are global to all
# pages, so each heading below the title gets the label DOC-ANCHOR
# ({#conformance-exit-status}) and each in-document link points at it.
#
# Everything else, other code blocks included, passes through untouched.
# Line numbers are kept, so Doxygen's warnings point at the right line.

BEGIN {
  in_math = 0; in_code = 0
  doc = ARGV[1]
  sub(/^.*\//, "", doc)
  sub(/\.md$/, "", doc)
}

# GitHub's anchor of a heading's text.
function slug(text) {
  text = tolower(text)
  gsub(/[^a-z0-9 _-]/, "", text)
  gsub(/ /, "-", text)
  return text
}

# The opening fence of a math block.
!in_code && !in_math && /^[ \t]*```[ \t]*math[ \t]*$/ {
  in_math = 1
  sub(/```[ \t]*math[ \t]*$/, "\\f[")
  print
  next
}

# The closing fence of a math block.
in_math && /^[ \t]*```[ \t]*$/ {
  in_math = 0
  sub(/```[ \t]*$/, "\\f]")
  print
  next
}

in_math { print; next }

# Other fenced code blocks pass through unchanged, inline math included.
/^[ \t]*(```|~~~)/ { in_code = !in_code; print; next }
in_code { print; next }

# Doxygen 1.9 does not take **(S3) text** as bold when the text starts with
# a bracket, as every rule label of docs/spec.md does; <b>...</b> it takes.
# Code spans are masked first, so `a ** b` stays as it is.
function bold(line,    masked, out, i, n, c, in_span) {
  masked = ""
  in_span = 0
  n = length(line)
  for (i = 1; i <= n; i++) {
    c = substr(line, i, 1)
    if (c == "`") in_span = !in_span
    masked = masked ((in_span || c == "`") ? "`" : c)
  }
  out = ""
  while (match(masked, /\*\*[^* ][^*]*\*\*/)) {
    out = out substr(line, 1, RSTART - 1) "<b>" \
          substr(line, RSTART + 2, RLENGTH - 4) "</b>"
    line = substr(line, RSTART + RLENGTH)
    masked = substr(masked, RSTART + RLENGTH)
  }
  return out line
}

# Headings below the title, unless they carry a label already.
/^##+[ \t]/ && !/\{#[^}]*\}[ \t]*$/ {
  text = $0
  sub(/^#+[ \t]+/, "", text)
  sub(/[ \t#]+$/, "", text)
  anchor = slug(text)
  # A repeated heading gets -1, -2, ... as on GitHub.
  if (anchor in seen)
    anchor = anchor "-" seen[anchor]++
  else
    seen[anchor] = 1
  $0 = $0 " {#" doc "-" anchor "}"
}

# Inline $`...`$ spans (the formula may not contain a backquote), then
# in-document links.
{
  out = ""
  line = $0
  while (match(line, /\$`[^`]+`\$/)) {
    out = out substr(line, 1, RSTART - 1) "\\f$" \
          substr(line, RSTART + 2, RLENGTH - 4) "\\f$"
    line = substr(line, RSTART + RLENGTH)
  }
  line = out line
  out = ""
  while (match(line, /\]\(#[^)]+\)/)) {
    out = out substr(line, 1, RSTART + 2) doc "-" \
          substr(line, RSTART + 3, RLENGTH - 3)
    line = substr(line, RSTART + RLENGTH)
  }
  print bold(out line)
}
