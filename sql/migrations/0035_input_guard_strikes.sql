-- Why: the input guard (shared/input-guard) blocks prompts aimed at the model; a user who keeps
-- trying must be blocked for a while, longer each time, on every edge isolate at once. Each
-- blocked input is one strike: when, the category, and a keyed hash of the text (never the text),
-- per subject (`user:<uuid>` for a signed-in user; `whatsapp:<…>` and the like for callers the
-- service role speaks for). The escalation itself is input-guard's StrikePolicy over the strike
-- times these functions return; strikes older than the policy's look-back are deleted as new
-- ones are recorded.
create table if not exists private.input_guard_strikes (
  subject text not null check (subject ~ '^[a-z_]{1,20}:[A-Za-z0-9:._+-]{1,200}$'),
  struck_at timestamptz not null default now(),
  category text not null check (category ~ '^[a-z_]{1,60}$'),
  text_hash text not null check (text_hash ~ '^[0-9a-f]{64}$')
);
create index if not exists input_guard_strikes_subject_idx
  on private.input_guard_strikes (subject, struck_at);
revoke all on private.input_guard_strikes from public, anon, authenticated, service_role;

-- A user speaks for themselves only; the service role for any subject.
create or replace function private.assert_strike_subject(p_subject text) returns void
  language plpgsql stable set search_path = ''
  as $$
  begin
    if (select auth.role()) is distinct from 'service_role'
       and p_subject is distinct from 'user:' || (select auth.uid())::text then
      raise exception 'strikes of another subject' using errcode = '42501';
    end if;
  end
  $$;
revoke execute on function private.assert_strike_subject(text) from public, anon, authenticated;

-- The subject's strikes within the look-back, as Unix seconds (oldest first).
create or replace function private.input_guard_strike_times(p_subject text, p_lookback_secs integer)
  returns bigint[]
  -- volatile: called right after an insert, it must see that row.
  language plpgsql volatile security definer set search_path = ''
  as $$
  begin
    perform private.assert_strike_subject(p_subject);
    return array(select floor(extract(epoch from s.struck_at))::bigint
                   from private.input_guard_strikes s
                  where s.subject = p_subject
                    and s.struck_at > now() - make_interval(secs => greatest(p_lookback_secs, 0))
                  order by s.struck_at);
  end
  $$;
revoke execute on function private.input_guard_strike_times(text, integer) from public, anon;
grant execute on function private.input_guard_strike_times(text, integer) to authenticated, service_role;

-- Records one strike and answers the subject's strikes within the look-back, this one included.
create or replace function private.record_input_guard_strike(
  p_subject text, p_category text, p_text_hash text, p_lookback_secs integer
) returns bigint[]
  language plpgsql volatile security definer set search_path = ''
  as $$
  begin
    perform private.assert_strike_subject(p_subject);
    delete from private.input_guard_strikes s
     where s.subject = p_subject
       and s.struck_at <= now() - make_interval(secs => greatest(p_lookback_secs, 0));
    insert into private.input_guard_strikes (subject, category, text_hash)
      values (p_subject, p_category, p_text_hash);
    return private.input_guard_strike_times(p_subject, p_lookback_secs);
  end
  $$;
revoke execute on function private.record_input_guard_strike(text, text, text, integer) from public, anon;
grant execute on function private.record_input_guard_strike(text, text, text, integer)
  to authenticated, service_role;
