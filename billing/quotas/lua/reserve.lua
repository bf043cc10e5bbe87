-- Hold (e, t) at every node of the chain, or nowhere.
-- KEYS[1] reservation hash, KEYS[2] deadline set.
-- ARGV: prefix, request id, now_us, now_s, ttl_us, tombstone_s, e, t, chain json, day, week, month
--       keys, then the chain again as 9 fields per node (id, lv, be, bt, pk, rw, rpm, tpm, mc):
--       reading them is cheaper than decoding the JSON, which is kept for settle and purge.
local P, rid = ARGV[1], ARGV[2]
local now, now_s = tonumber(ARGV[3]), tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local e, t = tonumber(ARGV[7]), tonumber(ARGV[8])
local pkeys = {day = ARGV[10], week = ARGV[11], month = ARGV[12]}
local rk, dk = KEYS[1], KEYS[2]

purge(P, now)
local known = redis.call('HMGET', rk, 'he', 'ht', 'fig')
if known[1] then return {'dup', known[1], known[2], known[3]} end

local chain = {}
for a = 13, #ARGV, 9 do
  chain[#chain + 1] = {
    id = ARGV[a], lv = ARGV[a + 1], be = tonumber(ARGV[a + 2]), bt = tonumber(ARGV[a + 3]),
    pk = ARGV[a + 4], rw = tonumber(ARGV[a + 5]), rpm = tonumber(ARGV[a + 6]),
    tpm = tonumber(ARGV[a + 7]), mc = tonumber(ARGV[a + 8]),
  }
end
local budget_ref, conc_ref, rate_ref, rq_best, tk_best
local nodes, rq_new, tk_new = {}, {}, {}
for i, n in ipairs(chain) do
  local h = redis.call('HMGET', P .. 'n:' .. n.id, 're', 'rt', 'inf', 'rq', 'tk')
  local re, rt, inf = num(h[1]), num(h[2]), num(h[3])
  nodes[i] = {re, rt, inf}
  if not budget_ref then budget_ref = budget_refusal(P, n, i, re, rt, e, t, now_s, pkeys) end
  if not conc_ref and n.mc > 0 and inf + 1 > n.mc then conc_ref = {i, 'concurrency', n.mc, 1} end
  if n.rpm > 0 then
    local ok, tat, rem, reset, retry = gcra(num(h[4]), now, n.rpm, 1)
    if ok then
      rq_new[i] = tat
      if not rq_best or rem < rq_best[2] then rq_best = {n.rpm, rem, reset} end
    elseif not rate_ref or retry > rate_ref[4] then
      rate_ref = {i, 'rpm', n.rpm, retry}
    end
  end
  if n.tpm > 0 then
    local ok, tat, rem, reset, retry = gcra(num(h[5]), now, n.tpm, t)
    if ok then
      tk_new[i] = tat
      if not tk_best or rem < tk_best[2] then tk_best = {n.tpm, rem, reset} end
    elseif not rate_ref or retry > rate_ref[4] then
      rate_ref = {i, 'tpm', n.tpm, retry}
    end
  end
end
local refusal = budget_ref or conc_ref or rate_ref
if refusal then return {'no', refusal[1], refusal[2], I(refusal[3]), refusal[4]} end

for i, n in ipairs(chain) do
  local h = nodes[i]
  local fields = {'re', I(h[1] + e), 'rt', I(h[2] + t), 'inf', I(h[3] + 1)}
  if rq_new[i] then fields[#fields + 1] = 'rq'; fields[#fields + 1] = F(rq_new[i]) end
  if tk_new[i] then fields[#fields + 1] = 'tk'; fields[#fields + 1] = F(tk_new[i]) end
  redis.call('HSET', P .. 'n:' .. n.id, unpack(fields))
end
rq_best = rq_best or {-1, -1, -1}
tk_best = tk_best or {-1, -1, -1}
local fig = string.format('%d,%d,%d,%d,%d,%d', rq_best[1], rq_best[2], rq_best[3],
  tk_best[1], tk_best[2], tk_best[3])
local deadline = now + ttl
-- No EXPIRE while held: a held reservation must live until purge releases its holds; it gets
-- its garbage-collection expiry (tb seconds) once settled, released or expired.
redis.call('HSET', rk, 's', 'held', 'c', ARGV[9], 'he', I(e), 'ht', I(t), 'fig', fig, 'tb', ARGV[6])
redis.call('ZADD', dk, I(deadline), rid)
return {'ok', fig}
