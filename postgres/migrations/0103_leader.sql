-- 0103: leadership among the servers sharing this database (docs/POSTGRES.md,
-- Leader and standby). One row: the leading server (holder, and the address
-- it serves on), its fencing token, and when its lease ends by the database's
-- clock, so that the servers' clocks never have to agree. A takeover raises
-- the token; every write of the exchange starts with twinex_fence(token),
-- which locks the row FOR SHARE and fails unless the token still leads, so a
-- deposed leader can never commit.
CREATE TABLE leader (
	id          INTEGER     PRIMARY KEY CHECK (id = 1),
	holder      TEXT        NOT NULL,
	addr        TEXT        NOT NULL,
	token       BIGINT      NOT NULL,
	lease_until TIMESTAMPTZ NOT NULL
);

-- twinex_fence raises SQLSTATE TX001 unless mine is the leading token. The
-- row lock it takes (FOR SHARE, held to the end of the caller's
-- transaction) makes a takeover's UPDATE wait for the writes already past
-- their fence, and the writes that come after it see the new token.
CREATE FUNCTION twinex_fence(mine BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM leader WHERE id = 1 AND token = mine FOR SHARE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'fenced: token % no longer leads', mine USING ERRCODE = 'TX001';
	END IF;
END
$$;
