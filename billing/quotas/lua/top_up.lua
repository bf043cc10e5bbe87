-- Add (e, t) to a live hold at every node at once, or nowhere; restarts the reservation's TTL.
-- KEYS[1] reservation hash, KEYS[2] deadline set.
-- ARGV: prefix, request id, now_us, now_s, ttl_us, extra e, extra t, day, week, month keys.
local P, rid = ARGV[1], ARGV[2]
local now, now_s = tonumber(ARGV[3]), tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local e, t = tonumber(ARGV[6]), tonumber(ARGV[7])
local pkeys = {day = ARGV[8], week = ARGV[9], month = ARGV[10]}
local rk, dk = KEYS[1], KEYS[2]

purge(P, now)
local r = redis.call('HMGET', rk, 's', 'c', 'he', 'ht')
if r[1] ~= 'held' then return 0 end
local chain = cjson.decode(r[2])
for i, n in ipairs(chain) do
  local h = redis.call('HMGET', P .. 'n:' .. n.id, 're', 'rt')
  if budget_refusal(P, n, i, num(h[1]), num(h[2]), e, t, now_s, pkeys) then return 0 end
end
for _, n in ipairs(chain) do
  local nk = P .. 'n:' .. n.id
  redis.call('HINCRBY', nk, 're', I(e))
  redis.call('HINCRBY', nk, 'rt', I(t))
  if n.tpm > 0 then tpm_adjust(P, n, t) end
end
local deadline = now + ttl
redis.call('HSET', rk, 'he', I(tonumber(r[3]) + e), 'ht', I(tonumber(r[4]) + t))
redis.call('ZADD', dk, I(deadline), rid)
return 1
