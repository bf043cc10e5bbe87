-- Replace committed spend of one calendar period with the ledger's figures (threshold flags kept).
-- KEYS[1] deadline set (routing only).
-- ARGV: prefix, "<kind>:<period key>", gc_s, then node id, e, t for each node.
local P, suffix, gc = ARGV[1], ARGV[2], ARGV[3]
for i = 4, #ARGV, 3 do
  local key = P .. 'c:' .. ARGV[i] .. ':' .. suffix
  redis.call('HSET', key, 'e', ARGV[i + 1], 't', ARGV[i + 2])
  redis.call('EXPIRE', key, gc)
end
return #ARGV
