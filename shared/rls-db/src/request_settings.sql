select set_config('search_path', '"public"', true),
       (select count(set_config(split_part(cfg, '=', 1), substr(cfg, strpos(cfg, '=') + 1), true))
          from pg_catalog.pg_db_role_setting s, unnest(s.setconfig) cfg
         where s.setrole = (select oid from pg_catalog.pg_roles where rolname = $1)
           and s.setdatabase in (0, (select oid from pg_catalog.pg_database where datname = current_database()))),
       set_config('role', $1, true),
       set_config('request.jwt.claims', $2, true),
       set_config('request.method', $3, true),
       set_config('request.path', $4, true),
       set_config('request.headers', $5, true),
       set_config('request.cookies', '{}', true),
       private.refuse_pending_account($2, $3, $4)
