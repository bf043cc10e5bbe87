-- Give a live hold back (and its tokens to TPM) without committing anything.
-- KEYS[1] reservation hash, KEYS[2] deadline set. ARGV: prefix, request id, tombstone_s.
local P, rid = ARGV[1], ARGV[2]
local rk, dk = KEYS[1], KEYS[2]
local r = redis.call('HMGET', rk, 's', 'c', 'he', 'ht')
if r[1] ~= 'held' then return 0 end
local chain = cjson.decode(r[2])
local ht = tonumber(r[4])
unhold(P, chain, tonumber(r[3]), ht)
for _, n in ipairs(chain) do
  if n.tpm > 0 then tpm_adjust(P, n, -ht) end
end
redis.call('HSET', rk, 's', 'released')
redis.call('HDEL', rk, 'c')
redis.call('EXPIRE', rk, ARGV[3])
redis.call('ZREM', dk, rid)
return 1
