-- 0103: leadership among the servers sharing this database (docs/POSTGRES.md,
-- Leader and standby). One row: the leading server (holder, and the address
-- it serves on), its fencing token, and when its lease ends by the database's
-- clock, so that the servers' clocks never have to agree. A takeover raises
-- the token; every write of the exchange starts with twinex_fence(token),
-- which locks the row FOR KEY SHARE and fails unless the token still leads, so
-- a deposed leader can never commit.
CREATE TABLE leader (
	id          INTEGER     PRIMARY KEY CHECK (id = 1),
	holder      TEXT        NOT NULL,
	addr        TEXT        NOT NULL,
	-- UNIQUE makes token a key column: a takeover's UPDATE of it takes the
	-- row FOR UPDATE, which waits for the fences' KEY SHARE locks, while a
	-- renewal (lease_until only) takes FOR NO KEY UPDATE, which does not,
	-- so renewing never stalls the leader's commits.
	token       BIGINT      NOT NULL UNIQUE,
	lease_until TIMESTAMPTZ NOT NULL
);

-- twinex_fence raises SQLSTATE TX001 unless mine is the leading token. The
-- row lock it takes (FOR KEY SHARE, held to the end of the caller's
-- transaction) makes a takeover's UPDATE of the token wait for the writes
-- already past their fence, and the writes that come after it see the new
-- token.
CREATE FUNCTION twinex_fence(mine BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM leader WHERE id = 1 AND token = mine FOR KEY SHARE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'fenced: token % no longer leads', mine USING ERRCODE = 'TX001';
	END IF;
END
$$;
