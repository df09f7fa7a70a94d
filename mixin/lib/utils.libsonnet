// Helpers for the rules: durations and annotation text.
local unitSeconds = { s: 1, m: 60, h: 3600, d: 86400 };
local unitNames = { s: 'second', m: 'minute', h: 'hour', d: 'day' };

// '30m' -> { n: 30, unit: 'm' }. One number and one unit only: the
// descriptions spell the duration out, and '1h30m' has no short spelling.
local parse(d) =
  local n = std.length(d);
  local unit = if n > 1 then d[n - 1] else '';
  local digits = if n > 1 then d[0:n - 1] else '';
  assert std.objectHas(unitSeconds, unit) && std.length(std.stripChars(digits, '0123456789')) == 0
         && std.length(digits) > 0 :
         'duration %s: want a whole number and one unit of s, m, h, d (like 15m)' % std.toString(d);
  { n: std.parseInt(digits), unit: unit };

{
  // '30m' -> 1800, for comparisons with timestamps in seconds.
  seconds(d)::
    local p = parse(d);
    p.n * unitSeconds[p.unit],

  // '15m' -> '15 minutes', '1h' -> 'an hour', '1m' -> 'a minute'.
  words(d)::
    local p = parse(d);
    if p.n == 1 then (if p.unit == 'h' then 'an ' else 'a ') + unitNames[p.unit]
    else '%d %ss' % [p.n, unitNames[p.unit]],

  // '1h' -> 'the last hour', '6h' -> 'the last 6 hours'.
  last(d)::
    local p = parse(d);
    'the last ' + (if p.n == 1 then unitNames[p.unit] else '%d %ss' % [p.n, unitNames[p.unit]]),

  // A description written over several lines, as one line: what YAML's
  // folded style (>-) makes of it.
  fold(text):: std.join(' ', std.split(std.rstripChars(text, '\n'), '\n')),
}
