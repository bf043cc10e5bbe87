-- Commit the actual amounts to the window containing now, release the holds, report thresholds.
-- Several settlements in one call (each as if settled alone, in order).
-- KEYS[1] deadline set, KEYS[1 + i] reservation hash of settlement i.
-- ARGV: prefix, now_us, now_s, tombstone_s, day, week, month keys, day, week, month counter
--       gc_s, then per settlement: request id, actual e, actual t.
local P = ARGV[1]
local now, now_s = tonumber(ARGV[2]), tonumber(ARGV[3])
local tombstone = ARGV[4]
local pkeys = {day = ARGV[5], week = ARGV[6], month = ARGV[7]}
local gcs = {day = ARGV[8], week = ARGV[9], month = ARGV[10]}
local FIRST = 11
local dk = KEYS[1]
local events = {}

local function settle(rk, rid, ae, at)
  local r = redis.call('HMGET', rk, 's', 'c', 'he', 'ht')
  if not r[1] or r[1] == 'settled' or r[1] == 'released' then return end
  local chain = cjson.decode(r[2])
  local he, ht = tonumber(r[3]), tonumber(r[4])
  -- Per node, in one read and one write: release the hold (unless it expired already) and move
  -- the TPM state by the difference between the tokens used and the tokens held.
  local held = r[1] == 'held'
  if held then redis.call('ZREM', dk, rid) end
  for _, n in ipairs(chain) do
    if held or n.tpm > 0 then
      local nk = P .. 'n:' .. n.id
      local h = redis.call('HMGET', nk, 're', 'rt', 'inf', 'tk')
      local fields = {}
      if held then
        fields = {'re', I(num(h[1]) - he), 'rt', I(num(h[2]) - ht), 'inf', I(num(h[3]) - 1)}
      end
      if n.tpm > 0 then
        fields[#fields + 1] = 'tk'
        fields[#fields + 1] = F(num(h[4]) + (at - ht) * WINDOW / n.tpm)
      end
      redis.call('HSET', nk, unpack(fields))
    end
  end

  for _, n in ipairs(chain) do
    if n.pk ~= '' or n.rw > 0 then
      local ce, ct, pkey, gc
      if n.pk ~= '' then
        local key = calendar_key(P, n, pkeys)
        ce = redis.call('HINCRBY', key, 'e', I(ae))
        ct = redis.call('HINCRBY', key, 't', I(at))
        pkey, gc = pkeys[n.pk], gcs[n.pk]
        -- Only a counter this settle just created lacks its garbage-collection expiry.
        if ce == ae then redis.call('EXPIRE', key, gc) end
      else
        local key, idx = rolling_key(P, n), I(math.floor(now_s / bucket_s(n)))
        redis.call('HINCRBY', key, 'e' .. idx, I(ae))
        redis.call('HINCRBY', key, 't' .. idx, I(at))
        gc = I(2 * n.rw + 3600)
        redis.call('EXPIRE', key, gc)
        ce, ct = rolling_sum(key, n.rw, now_s)
        pkey = 'rolling-' .. I(n.rw) .. 's-' .. I(math.floor(now_s / n.rw))
      end
      if n.be >= 0 or n.bt >= 0 then
        local fk = P .. 'f:' .. n.id .. ':' .. pkey
        for _, pct in ipairs(n.th) do
          local unit, spent, budget
          if n.be >= 0 and ce * 100 >= pct * n.be then
            unit, spent, budget = 'eur', ce, n.be
          elseif n.bt >= 0 and ct * 100 >= pct * n.bt then
            unit, spent, budget = 'tokens', ct, n.bt
          end
          if unit and redis.call('HSETNX', fk, I(pct), '1') == 1 then
            redis.call('EXPIRE', fk, gc)
            events[#events + 1] = {n.id, n.lv, I(pct), pkey, unit, I(spent), I(budget)}
          end
        end
      end
    end
  end
  redis.call('HSET', rk, 's', 'settled')
  redis.call('HDEL', rk, 'c')
  redis.call('EXPIRE', rk, tombstone)
end

purge(P, now)
for i = 0, (#ARGV - FIRST + 1) / 3 - 1 do
  local a = FIRST + 3 * i
  settle(KEYS[2 + i], ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]))
end
return events
