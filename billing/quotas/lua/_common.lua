-- Shared by every quota script (prepended by redis_store.py, so each operation is one script).
-- All keys start with P = "hygie:{org}:": one hash tag per organisation, one Cluster hash slot.
-- Numbers handed to redis.call are formatted here: Redis would print a bare Lua number with
-- "%.14g", which loses digits of microsecond timestamps.
-- Node spec (JSON, from NodeLimits): id, lv, be/bt (budgets, -1 = none), pk ("day"/"week"/
-- "month"/"" = calendar period), rw (rolling window s, 0 = none), th (thresholds), rpm, tpm,
-- mc (max concurrent), 0 = none. The expressions below mirror gcra.py, rolling.py and
-- memory_store.py operation for operation.

local US = 1000000
local WINDOW = 60000000
local EPS = 1e-6

local function I(x) return string.format('%d', x) end
local function F(x) return string.format('%.17g', x) end
local function num(v) if v then return tonumber(v) end return 0 end

local function gcra(tat, now, limit, cost)
  local base = tat
  if now > base then base = now end
  local new = base + cost * WINDOW / limit
  local ahead = new - now
  if ahead <= WINDOW then
    local remaining = math.floor(limit - ahead * limit / WINDOW + EPS)
    local reset = math.ceil(ahead / US - EPS)
    if remaining < 0 then remaining = 0 end
    if reset < 0 then reset = 0 end
    return true, new, remaining, reset, 0
  end
  local retry
  if cost > limit then retry = 60 else retry = math.ceil((ahead - WINDOW) / US - EPS) end
  if retry < 1 then retry = 1 end
  if retry > 60 then retry = 60 end
  return false, tat, 0, 0, retry
end

local function tpm_adjust(P, n, units)
  local nk = P .. 'n:' .. n.id
  local tat = num(redis.call('HGET', nk, 'tk'))
  redis.call('HSET', nk, 'tk', F(tat + units * WINDOW / n.tpm))
end

local function bucket_s(n) return math.ceil(n.rw / 60) end

local function rolling_key(P, n) return P .. 'r:' .. n.id .. ':' .. I(n.rw) end

-- Sum of the buckets still in the window at now_s, dropping older ones.
local function rolling_sum(key, rw, now_s)
  local g = math.ceil(rw / 60)
  local oldest = math.floor(now_s / g) - (math.ceil(rw / g) + 1) + 1
  local flat = redis.call('HGETALL', key)
  local e, t = 0, 0
  for i = 1, #flat, 2 do
    local field = flat[i]
    if tonumber(string.sub(field, 2)) < oldest then
      redis.call('HDEL', key, field)
    elseif string.sub(field, 1, 1) == 'e' then
      e = e + tonumber(flat[i + 1])
    else
      t = t + tonumber(flat[i + 1])
    end
  end
  return e, t
end

local function calendar_key(P, n, pkeys)
  return P .. 'c:' .. n.id .. ':' .. n.pk .. ':' .. pkeys[n.pk]
end

local function committed(P, n, now_s, pkeys)
  if n.pk ~= '' then
    local h = redis.call('HMGET', calendar_key(P, n, pkeys), 'e', 't')
    return num(h[1]), num(h[2])
  end
  return rolling_sum(rolling_key(P, n), n.rw, now_s)
end

-- A refusal {index, reason, limit, retry} if adding (e, t) would exceed a budget of node n.
local function budget_refusal(P, n, i, re, rt, e, t, now_s, pkeys)
  if n.be < 0 and n.bt < 0 then return nil end
  local ce, ct = committed(P, n, now_s, pkeys)
  if n.be >= 0 and ce + re + e > n.be then return {i, 'budget_eur', n.be, 0} end
  if n.bt >= 0 and ct + rt + t > n.bt then return {i, 'budget_tokens', n.bt, 0} end
  return nil
end

local function unhold(P, chain, he, ht)
  for _, n in ipairs(chain) do
    local nk = P .. 'n:' .. n.id
    local h = redis.call('HMGET', nk, 're', 'rt', 'inf')
    redis.call('HSET', nk, 're', I(num(h[1]) - he), 'rt', I(num(h[2]) - ht), 'inf', I(num(h[3]) - 1))
  end
end

-- Release the holds of reservations whose deadline has passed (never commit them).
local function purge(P, now)
  local dk = P .. 'dl'
  local ids = redis.call('ZRANGEBYSCORE', dk, '-inf', I(now), 'LIMIT', 0, 1000)
  for _, id in ipairs(ids) do
    local rk = P .. 'res:' .. id
    local r = redis.call('HMGET', rk, 's', 'c', 'he', 'ht', 'tb')
    if r[1] == 'held' then
      unhold(P, cjson.decode(r[2]), tonumber(r[3]), tonumber(r[4]))
      redis.call('HSET', rk, 's', 'expired')
      redis.call('EXPIRE', rk, r[5])
    end
    redis.call('ZREM', dk, id)
  end
end

