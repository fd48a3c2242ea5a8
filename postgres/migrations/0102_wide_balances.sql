-- 0102: balances, holds, supplies and candle quote volumes are 128-bit
-- (twinex.Int128): NUMERIC(39,0) holds every such value exactly. The
-- store writes and reads them as decimal text.
ALTER TABLE balances ALTER COLUMN total TYPE NUMERIC(39,0), ALTER COLUMN held TYPE NUMERIC(39,0);
ALTER TABLE supply ALTER COLUMN net TYPE NUMERIC(39,0);
ALTER TABLE candles ALTER COLUMN quote_volume TYPE NUMERIC(39,0);
