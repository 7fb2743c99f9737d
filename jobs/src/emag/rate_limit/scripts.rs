//! The Lua scripts of the Redis store: each runs atomically on Redis' own clock, so every
//! process sharing a login sees one slot clock and one list of departures.

/// Redis' clock in microseconds, as `now`.
macro_rules! now {
    () => {
        "
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"
    };
}

/// Departs now if the `limit` (ARGV[1])-th latest departure in KEYS[1] left a window
/// (ARGV[2]) ago: returns `{microseconds to wait first, the departure recorded or 0}`.
/// Departures are kept newest first as recorded; a corrected one may be out of order,
/// so the check sorts the `2 × limit` kept.
macro_rules! depart {
    () => {
        "
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local sent = redis.call('LRANGE', KEYS[1], 0, -1)
if #sent >= limit then
  local times = {}
  for i, v in ipairs(sent) do times[i] = tonumber(v) end
  table.sort(times, function(a, b) return a > b end)
  local oldest = times[limit]
  if now - oldest < window then return {oldest + window - now, 0} end
end
redis.call('LPUSH', KEYS[1], string.format('%.0f', now))
redis.call('LTRIM', KEYS[1], 0, 2 * limit - 1)
redis.call('PEXPIRE', KEYS[1], math.floor(window / 1000) + 2000)
return {0, now}
"
    };
}

/// Reserves the next slot (KEYS[2], ARGV[3] apart) and, when it is now, departs at once
/// (as [`DEPART`]); otherwise returns `{microseconds to the slot, 0}`.
pub(super) const ACQUIRE: &str = concat!(
    now!(),
    "
local spacing = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[2]) or '0')
if tat < now then tat = now end
local next = tat + spacing
redis.call('SET', KEYS[2], string.format('%.0f', next), 'PX', math.floor((next - now) / 1000) + 2000)
if tat > now then return {tat - now, 0} end
",
    depart!()
);

/// Departs now or says how long to wait: see `depart!`.
pub(super) const DEPART: &str = concat!(now!(), depart!());

/// A departure recorded as ARGV[1] left only at ARGV[2] (both microseconds): the later
/// time replaces it, when it is still kept.
pub(super) const CORRECT: &str = r"
local i = redis.call('LPOS', KEYS[1], ARGV[1])
if i then redis.call('LSET', KEYS[1], i, ARGV[2]) end
return 0
";

/// Push the next free slot to at least now + pause.
pub(super) const PENALIZE: &str = concat!(
    now!(),
    r"
local until_ = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < until_ then
  redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 2000)
end
return 0
"
);
