-- A node's committed spend in one window and what live reservations hold at it.
-- KEYS[1] deadline set.
-- ARGV: prefix, node id, now_us, now_s, "c" + "<kind>:<period key>" or "r" + rolling seconds.
local P, id = ARGV[1], ARGV[2]
local now, now_s = tonumber(ARGV[3]), tonumber(ARGV[4])
local mode, arg = ARGV[5], ARGV[6]
purge(P, now)
local ce, ct
if mode == 'c' then
  local h = redis.call('HMGET', P .. 'c:' .. id .. ':' .. arg, 'e', 't')
  ce, ct = num(h[1]), num(h[2])
else
  ce, ct = rolling_sum(P .. 'r:' .. id .. ':' .. arg, tonumber(arg), now_s)
end
local h = redis.call('HMGET', P .. 'n:' .. id, 're', 'rt', 'inf')
return {I(ce), I(ct), I(num(h[1])), I(num(h[2])), I(num(h[3]))}
