// Runs the stock ccxt gemini client (pinned in package.json) against a live
// Twinex server. compat/compat_test.go (TestCCXT) starts the server,
// provisions two accounts and drives this file with `node --test`; see
// compat/README.md to run it by hand.
//
// Environment:
//   TWINEX_URL              base URL of the server, e.g. http://127.0.0.1:8080
//   TWINEX_SELLER_KEY/_SECRET  an account key (trader,fundmanager) of an
//                           account funded with TWINEX_SELLER_BTC BTC and
//                           nothing else
//   TWINEX_BUYER_KEY/_SECRET   the same for an account funded with
//                           TWINEX_BUYER_USD USD and nothing else
//   TWINEX_CCXT_PENDING     optional: comma-separated test names to skip as
//                           pending (their endpoint is not served yet)
//
// The cases run in order on one fresh exchange and build on each other's
// state: the numbers asserted below assume an empty BTC/USD book and no
// trades before the first case. Fees are Twinex's defaults: 10 bps maker,
// 35 bps taker, on the notional, charged in USD.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import ccxt from 'ccxt';

function env(name) {
    const v = process.env[name];
    if (!v) {
        throw new Error(`${name} is not set (run this through compat/compat_test.go or see compat/README.md)`);
    }
    return v;
}

const URL = env('TWINEX_URL').replace(/\/+$/, '');
const SELLER_BTC = Number(env('TWINEX_SELLER_BTC'));
const BUYER_USD = Number(env('TWINEX_BUYER_USD'));
const MAKER = 0.001; // 10 bps
const TAKER = 0.0035; // 35 bps
const SYMBOL = 'BTC/USD';
// A well-formed mainnet bech32 address outside the exchange.
const WITHDRAW_ADDRESS = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq';

function exchange(prefix) {
    const ex = new ccxt.gemini({ apiKey: env(prefix + '_KEY'), secret: env(prefix + '_SECRET') });
    // reference §6: every REST base, webExchange included (GET / is scraped
    // for currencyData by loadMarkets).
    ex.urls.api = { public: URL, private: URL, web: URL, webExchange: URL };
    return ex;
}

const seller = exchange('TWINEX_SELLER'); // starts with BTC
const buyer = exchange('TWINEX_BUYER'); // starts with USD

const pending = new Set((process.env.TWINEX_CCXT_PENDING || '').split(',').map((s) => s.trim()).filter(Boolean));
const names = new Set();

// ccxtTest declares one case, skipped when TWINEX_CCXT_PENDING names it.
function ccxtTest(name, fn) {
    assert.ok(!names.has(name), `duplicate test name ${name}`);
    names.add(name);
    if (pending.has(name)) {
        test(name, { skip: 'PENDING (listed in TWINEX_CCXT_PENDING)' }, fn);
        return;
    }
    test(name, fn);
}

// near asserts |actual - expected| is within float noise.
function near(actual, expected, what) {
    assert.equal(typeof actual, 'number', `${what}: ${actual} is not a number`);
    assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, want ${expected}`);
}

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

// tradesOf returns an account's BTC/USD trades belonging to order id.
async function tradesOf(ex, orderId) {
    const trades = await ex.fetchMyTrades(SYMBOL);
    return trades.filter((t) => t.order === orderId);
}

// assertFill checks one trade of an order: price, amount, side and the fee
// at rate bps of the notional, in USD.
function assertFill(trades, { price, amount, side, rate }, what) {
    assert.equal(trades.length, 1, `${what}: want one trade, got ${JSON.stringify(trades.map((t) => t.info))}`);
    const t = trades[0];
    assert.equal(t.symbol, SYMBOL, `${what}: symbol`);
    assert.equal(t.side, side, `${what}: side`);
    near(t.price, price, `${what}: price`);
    near(t.amount, amount, `${what}: amount`);
    near(t.cost, price * amount, `${what}: cost`);
    assert.ok(t.fee, `${what}: no fee`);
    assert.equal(t.fee.currency, 'USD', `${what}: fee currency`);
    near(t.fee.cost, price * amount * rate, `${what}: fee (${rate * 10000} bps of ${price * amount})`);
    assert.equal(typeof t.id, 'string', `${what}: trade id`);
    assert.ok(t.timestamp > 0, `${what}: timestamp`);
}

// State shared by the cases, in order.
const s = {};

ccxtTest('loadMarkets', async () => {
    for (const ex of [seller, buyer]) {
        const markets = await ex.loadMarkets();
        for (const sym of ['BTC/USD', 'ETH/USD', 'ETH/BTC', 'SOL/USD', 'LTC/USD']) {
            assert.ok(markets[sym], `market ${sym} missing; got ${Object.keys(markets).join(', ')}`);
        }
        const m = markets[SYMBOL];
        assert.equal(m.id, 'btcusd');
        assert.equal(m.base, 'BTC');
        assert.equal(m.quote, 'USD');
        assert.equal(m.spot, true);
        assert.notEqual(m.active, false, 'the market is not inactive (ccxt leaves active undefined for scraped markets)');
        // Precision comes only from the currencyData scrape of GET / (§8.1).
        assert.equal(m.precision.amount, 1e-8, `amount precision ${JSON.stringify(m.precision)}`);
        assert.equal(m.precision.price, 0.01, `price precision ${JSON.stringify(m.precision)}`);
        assert.equal(m.limits.amount.min, 0.00001, 'minimum order size');
        assert.ok(ex.currencies.BTC, 'currency BTC from currencyData');
        assert.ok(ex.currencies.USD, 'currency USD from currencyData');
    }
});

ccxtTest('fetchBalance (funded)', async () => {
    const sb = await seller.fetchBalance();
    near(sb.BTC.total, SELLER_BTC, 'seller BTC total');
    near(sb.BTC.free, SELLER_BTC, 'seller BTC free');
    near(sb.BTC.used, 0, 'seller BTC used');
    const bb = await buyer.fetchBalance();
    near(bb.USD.total, BUYER_USD, 'buyer USD total');
    near(bb.USD.free, BUYER_USD, 'buyer USD free');
    near(bb.USD.used, 0, 'buyer USD used');
});

ccxtTest('createOrder limit (resting)', async () => {
    const ask = await seller.createOrder(SYMBOL, 'limit', 'sell', 0.01, 20000, { clientOrderId: 'twx-ask-1' });
    assert.equal(typeof ask.id, 'string');
    assert.ok(ask.id.length > 0);
    assert.equal(ask.clientOrderId, 'twx-ask-1');
    assert.equal(ask.status, 'open');
    assert.equal(ask.symbol, SYMBOL);
    assert.equal(ask.type, 'limit');
    assert.equal(ask.side, 'sell');
    assert.equal(ask.timeInForce, 'GTC');
    assert.equal(ask.postOnly, false);
    near(ask.price, 20000, 'price');
    near(ask.amount, 0.01, 'amount');
    near(ask.filled, 0, 'filled');
    near(ask.remaining, 0.01, 'remaining');
    assert.ok(ask.timestamp > 0, 'timestamp');
    s.ask = ask.id;

    const bid = await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.01, 19000);
    assert.equal(bid.status, 'open');
    assert.equal(bid.side, 'buy');
    near(bid.price, 19000, 'bid price');
    near(bid.remaining, 0.01, 'bid remaining');
    assert.match(bid.clientOrderId, /^\d+$/, 'ccxt sends a millisecond client_order_id');
    s.bid = bid.id;
    const bb = await buyer.fetchBalance();
    near(bb.USD.total, BUYER_USD, 'buyer USD total while bidding');
    assert.ok(bb.USD.free < BUYER_USD - 190 + 1e-9, `buyer USD free ${bb.USD.free} must exclude the bid's 190 USD`);
});

ccxtTest('fetchOrder', async () => {
    assert.ok(s.ask, 'no resting order (createOrder limit (resting) failed)');
    const o = await seller.fetchOrder(s.ask, SYMBOL);
    assert.equal(o.id, s.ask);
    assert.equal(o.clientOrderId, 'twx-ask-1');
    assert.equal(o.status, 'open');
    assert.equal(o.symbol, SYMBOL);
    assert.equal(o.type, 'limit');
    assert.equal(o.side, 'sell');
    near(o.price, 20000, 'price');
    near(o.amount, 0.01, 'amount');
    near(o.filled, 0, 'filled');
    near(o.remaining, 0.01, 'remaining');
    // Another account's order is not visible.
    await assert.rejects(buyer.fetchOrder(s.ask, SYMBOL), (e) => e instanceof ccxt.OrderNotFound || e instanceof ccxt.ExchangeError);
});

ccxtTest('fetchOpenOrders', async () => {
    const mine = await seller.fetchOpenOrders(SYMBOL);
    assert.deepEqual(mine.map((o) => o.id), [s.ask]);
    assert.equal(mine[0].status, 'open');
    near(mine[0].price, 20000, 'price');
    const theirs = await buyer.fetchOpenOrders(SYMBOL);
    assert.deepEqual(theirs.map((o) => o.id), [s.bid]);
    assert.deepEqual(await seller.fetchOpenOrders('ETH/USD'), [], 'no ETH/USD orders');
});

ccxtTest('fetchOrderBook', async () => {
    const book = await seller.fetchOrderBook(SYMBOL, 10);
    assert.equal(book.symbol, SYMBOL);
    assert.deepEqual(book.asks.map((l) => l.slice(0, 2)), [[20000, 0.01]]);
    assert.deepEqual(book.bids.map((l) => l.slice(0, 2)), [[19000, 0.01]]);
    const eth = await seller.fetchOrderBook('ETH/USD');
    assert.deepEqual(eth.bids, []);
    assert.deepEqual(eth.asks, []);
});

ccxtTest('cancelOrder', async () => {
    assert.ok(s.bid, 'no resting bid (createOrder limit (resting) failed)');
    const c = await buyer.cancelOrder(s.bid, SYMBOL);
    assert.equal(c.id, s.bid);
    assert.equal(c.status, 'canceled');
    near(c.filled, 0, 'filled');
    assert.deepEqual(await buyer.fetchOpenOrders(SYMBOL), []);
    const o = await buyer.fetchOrder(s.bid, SYMBOL);
    assert.equal(o.status, 'canceled');
    const bb = await buyer.fetchBalance();
    near(bb.USD.free, BUYER_USD, 'buyer USD free after cancel');
    near(bb.USD.used, 0, 'buyer USD used after cancel');
    // Cancelling again returns the same cancelled order (§3.3); an unknown
    // id is OrderNotFound.
    const again = await buyer.cancelOrder(s.bid, SYMBOL);
    assert.equal(again.id, s.bid);
    assert.equal(again.status, 'canceled');
    await assert.rejects(buyer.cancelOrder('999999999', SYMBOL), ccxt.OrderNotFound);
});

ccxtTest('createOrder limit (crossing fill)', async () => {
    assert.ok(s.ask, 'no resting ask (createOrder limit (resting) failed)');
    const take = await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.01, 20000);
    assert.equal(take.status, 'closed');
    near(take.filled, 0.01, 'filled');
    near(take.remaining, 0, 'remaining');
    near(take.average, 20000, 'average');
    s.take = take.id;
    const ask = await seller.fetchOrder(s.ask, SYMBOL);
    assert.equal(ask.status, 'closed');
    near(ask.filled, 0.01, 'maker filled');
    near(ask.remaining, 0, 'maker remaining');
    near(ask.average, 20000, 'maker average');
    assert.deepEqual(await seller.fetchOpenOrders(SYMBOL), []);
});

ccxtTest('fetchMyTrades (fills and fees)', async () => {
    assert.ok(s.take, 'no fill (createOrder limit (crossing fill) failed)');
    // 0.01 BTC at 20000 = 200 USD: the maker pays 0.20, the taker 0.70.
    assertFill(await tradesOf(seller, s.ask), { price: 20000, amount: 0.01, side: 'sell', rate: MAKER }, 'seller (maker)');
    assertFill(await tradesOf(buyer, s.take), { price: 20000, amount: 0.01, side: 'buy', rate: TAKER }, 'buyer (taker)');
    const [st] = await tradesOf(seller, s.ask);
    const [bt] = await tradesOf(buyer, s.take);
    assert.equal(st.id, bt.id, 'both sides see the same trade id');
    const all = await seller.fetchMyTrades(SYMBOL);
    assert.equal(all.length, 1, 'seller has exactly one trade');
});

ccxtTest('fetchBalance (after fill)', async () => {
    const sb = await seller.fetchBalance();
    near(sb.BTC.total, SELLER_BTC - 0.01, 'seller BTC total');
    near(sb.BTC.free, SELLER_BTC - 0.01, 'seller BTC free');
    near(sb.USD.total, 200 - 0.2, 'seller USD total (200 less the 0.20 maker fee)');
    near(sb.USD.free, 200 - 0.2, 'seller USD free');
    const bb = await buyer.fetchBalance();
    near(bb.BTC.total, 0.01, 'buyer BTC total');
    near(bb.BTC.free, 0.01, 'buyer BTC free');
    near(bb.USD.total, BUYER_USD - 200 - 0.7, 'buyer USD total (less 200 and the 0.70 taker fee)');
    near(bb.USD.free, BUYER_USD - 200 - 0.7, 'buyer USD free');
});

ccxtTest('createOrder postOnly', async () => {
    const ask = await seller.createOrder(SYMBOL, 'limit', 'sell', 0.01, 21000, { postOnly: true });
    assert.equal(ask.status, 'open');
    assert.equal(ask.postOnly, true);
    assert.equal(ask.timeInForce, 'PO');
    assert.deepEqual(ask.info.options, ['maker-or-cancel']);
    s.ask2 = ask.id;
    const bid = await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.01, 19500, { postOnly: true });
    assert.equal(bid.status, 'open');
    assert.equal(bid.postOnly, true);
    s.bid2 = bid.id;
    // A post-only order that would take is cancelled unfilled.
    const cross = await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.01, 21000, { postOnly: true });
    assert.equal(cross.status, 'canceled');
    near(cross.filled, 0, 'crossing post-only filled');
    const o = await seller.fetchOrder(s.ask2, SYMBOL);
    near(o.filled, 0, 'resting ask untouched');
});

ccxtTest('fetchTicker', async () => {
    const t = await buyer.fetchTicker(SYMBOL);
    assert.equal(t.symbol, SYMBOL);
    near(t.last, 20000, 'last');
    near(t.bid, 19500, 'bid');
    near(t.ask, 21000, 'ask');
    near(t.baseVolume, 0.01, 'baseVolume');
    near(t.quoteVolume, 200, 'quoteVolume');
    assert.ok(t.timestamp > 0, 'timestamp');
});

ccxtTest('fetchTickers', async () => {
    const ts = await buyer.fetchTickers();
    assert.ok(ts[SYMBOL], `no ${SYMBOL}; got ${Object.keys(ts).join(', ')}`);
    near(ts[SYMBOL].last, 20000, 'BTC/USD last');
    for (const sym of ['ETH/USD', 'ETH/BTC', 'SOL/USD', 'LTC/USD']) {
        assert.ok(sym in ts, `no ${sym} ticker`);
    }
});

ccxtTest('fetchTrades', async () => {
    const trades = await buyer.fetchTrades(SYMBOL, undefined, 5);
    assert.equal(trades.length, 1, JSON.stringify(trades.map((t) => t.info)));
    const t = trades[0];
    assert.equal(t.symbol, SYMBOL);
    assert.equal(t.side, 'buy', 'the taker bought');
    near(t.price, 20000, 'price');
    near(t.amount, 0.01, 'amount');
    assert.ok(t.timestamp > 0);
    s.tradeTime = t.timestamp;
    const since = await buyer.fetchTrades(SYMBOL, t.timestamp + 1);
    assert.deepEqual(since, [], 'no trades after the only trade');
    assert.deepEqual(await buyer.fetchTrades('ETH/USD'), []);
});

ccxtTest('fetchOHLCV', async () => {
    const rows = await buyer.fetchOHLCV(SYMBOL, '1h');
    assert.ok(rows.length >= 1, 'no candles');
    const when = s.tradeTime ?? Date.now();
    const hour = Math.floor(when / 3600000) * 3600000;
    const c = rows.find((r) => r[0] === hour);
    assert.ok(c, `no candle at ${new Date(hour).toISOString()}; got ${JSON.stringify(rows.slice(-3))}`);
    assert.deepEqual(c.slice(1, 5), [20000, 20000, 20000, 20000], 'open high low close');
    near(c[5], 0.01, 'volume');
    for (let i = 1; i < rows.length; i++) {
        assert.ok(rows[i - 1][0] < rows[i][0], 'candles ascend');
    }
});

ccxtTest('createOrder IOC', async () => {
    // Takes the 0.01 resting at 21000 (the post-only ask) and cancels the rest.
    const o = await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.02, 21000, { timeInForce: 'IOC' });
    assert.equal(o.timeInForce, 'IOC');
    assert.deepEqual(o.info.options, ['immediate-or-cancel']);
    assert.equal(o.status, 'canceled');
    near(o.filled, 0.01, 'filled');
    near(o.remaining, 0.01, 'remaining');
    near(o.average, 21000, 'average');
    assertFill(await tradesOf(buyer, o.id), { price: 21000, amount: 0.01, side: 'buy', rate: TAKER }, 'IOC taker');
    assertFill(await tradesOf(seller, s.ask2), { price: 21000, amount: 0.01, side: 'sell', rate: MAKER }, 'IOC maker');
    assert.deepEqual(await buyer.fetchOpenOrders(SYMBOL).then((l) => l.map((x) => x.id)), [s.bid2], 'nothing of the IOC rests');
    // An IOC that cannot trade at all is cancelled unfilled.
    const none = await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.01, 100, { timeInForce: 'IOC' });
    assert.equal(none.status, 'canceled');
    near(none.filled, 0, 'unfilled IOC');
});

ccxtTest('createOrder FOK', async () => {
    // No asks: killed.
    const kill = await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.05, 22000, { timeInForce: 'FOK' });
    assert.equal(kill.timeInForce, 'FOK');
    assert.deepEqual(kill.info.options, ['fill-or-kill']);
    assert.equal(kill.status, 'canceled');
    near(kill.filled, 0, 'killed FOK filled');
    // Only 0.01 bid at 19500: 0.02 is killed, 0.01 fills completely.
    const short = await seller.createOrder(SYMBOL, 'limit', 'sell', 0.02, 19500, { timeInForce: 'FOK' });
    assert.equal(short.status, 'canceled');
    near(short.filled, 0, 'partially fillable FOK filled');
    const fill = await seller.createOrder(SYMBOL, 'limit', 'sell', 0.01, 19500, { timeInForce: 'FOK' });
    assert.equal(fill.status, 'closed');
    near(fill.filled, 0.01, 'FOK filled');
    near(fill.average, 19500, 'FOK average');
    assertFill(await tradesOf(seller, fill.id), { price: 19500, amount: 0.01, side: 'sell', rate: TAKER }, 'FOK taker');
    assertFill(await tradesOf(buyer, s.bid2), { price: 19500, amount: 0.01, side: 'buy', rate: MAKER }, 'FOK maker');
});

ccxtTest('createOrder stop-limit', async () => {
    // triggerPrice: a buy stop above the market.
    const stop = await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.01, 25500, { triggerPrice: 25000 });
    assert.equal(stop.status, 'open');
    // Submitted as "exchange stop limit", reported as "stop-limit" (§3.1),
    // which ccxt passes through.
    assert.equal(stop.info.type, 'stop-limit');
    assert.equal(stop.type, 'stop-limit');
    assert.equal(Number(stop.info.stop_price), 25000);
    near(stop.price, 25500, 'limit price');
    near(stop.filled, 0, 'filled');
    // stopPrice: a sell stop below the market, then cancelled.
    const down = await seller.createOrder(SYMBOL, 'limit', 'sell', 0.01, 14900, { stopPrice: 15000 });
    assert.equal(down.status, 'open');
    assert.equal(down.type, 'stop-limit');
    assert.equal(Number(down.info.stop_price), 15000);
    const fetched = await seller.fetchOrder(down.id, SYMBOL);
    assert.equal(fetched.status, 'open');
    assert.equal(Number(fetched.info.stop_price), 15000);
    const cancelled = await seller.cancelOrder(down.id, SYMBOL);
    assert.equal(cancelled.status, 'canceled');

    // A trade at 25000 triggers the buy stop, which then buys 0.01 at 25000.
    const ask = await seller.createOrder(SYMBOL, 'limit', 'sell', 0.02, 25000);
    assert.equal(ask.status, 'open');
    let o = await buyer.fetchOrder(stop.id, SYMBOL);
    assert.equal(o.status, 'open', 'the stop waits for a trade at its price');
    near(o.filled, 0, 'untriggered stop filled');
    const nudge = await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.005, 25000);
    near(nudge.filled, 0.005, 'nudge filled');
    o = await buyer.fetchOrder(stop.id, SYMBOL);
    assert.equal(o.status, 'closed', `triggered stop: ${JSON.stringify(o.info)}`);
    near(o.filled, 0.01, 'triggered stop filled');
    near(o.average, 25000, 'triggered stop average');
    assertFill(await tradesOf(buyer, stop.id), { price: 25000, amount: 0.01, side: 'buy', rate: TAKER }, 'stop taker');
    const rest = await seller.cancelOrder(ask.id, SYMBOL);
    assert.equal(rest.status, 'canceled');
    near(rest.filled, 0.015, 'ask filled before cancel');
    assert.deepEqual(await seller.fetchOpenOrders(SYMBOL), []);
    assert.deepEqual(await buyer.fetchOpenOrders(SYMBOL), []);
});

ccxtTest('fetchTradingFees', async () => {
    const fees = await buyer.fetchTradingFees();
    for (const sym of ['BTC/USD', 'ETH/USD', 'ETH/BTC']) {
        assert.ok(fees[sym], `no fees for ${sym}`);
        near(fees[sym].maker, MAKER, `${sym} maker`);
        near(fees[sym].taker, TAKER, `${sym} taker`);
    }
});

ccxtTest('createDepositAddress', async () => {
    const a = await buyer.createDepositAddress('BTC');
    assert.equal(a.currency, 'BTC');
    assert.equal(typeof a.address, 'string');
    assert.ok(a.address.length >= 20, `address ${a.address}`);
    s.depositAddress = a.address;
});

ccxtTest('fetchDepositAddress', async () => {
    await sleep(2100); // /v1/addresses and newAddress: 1 request per 2 s per account
    const a = await buyer.fetchDepositAddress('BTC', { network: 'BTC' });
    assert.ok(a, 'no address for network BTC');
    assert.equal(a.currency, 'BTC');
    assert.equal(a.network, 'BTC');
    assert.equal(typeof a.address, 'string');
    assert.ok(a.address.length >= 20, `address ${a.address}`);
    if (s.depositAddress) {
        assert.equal(a.address, s.depositAddress, 'the address createDepositAddress made');
    }
});

ccxtTest('withdraw', async () => {
    const before = (await seller.fetchBalance()).BTC.total;
    const w = await seller.withdraw('BTC', 0.1, WITHDRAW_ADDRESS);
    assert.equal(typeof w.id, 'string', `withdrawal id: ${JSON.stringify(w.info)}`);
    assert.ok(w.id.length > 0);
    near(w.amount, 0.1, 'amount');
    assert.equal(w.info.address, WITHDRAW_ADDRESS);
    const fee = Number(w.info.fee ?? 0);
    const after = (await seller.fetchBalance()).BTC.total;
    near(before - after, 0.1 + fee, `BTC total fell by the amount and the fee (${fee})`);
    s.withdrawal = w;
    // More than the balance is refused.
    await assert.rejects(seller.withdraw('BTC', 1000, WITHDRAW_ADDRESS), ccxt.InsufficientFunds);
});

ccxtTest('fetchDepositsWithdrawals', async () => {
    const txs = await seller.fetchDepositsWithdrawals();
    const deposit = txs.find((t) => t.type === 'deposit' && t.currency === 'BTC');
    assert.ok(deposit, `no BTC deposit in ${JSON.stringify(txs.map((t) => t.info))}`);
    near(deposit.amount, SELLER_BTC, 'deposit amount');
    assert.equal(deposit.status, 'ok');
    assert.equal(typeof deposit.id, 'string');
    assert.ok(deposit.timestamp > 0, 'deposit timestamp');
    const w = txs.find((t) => t.type === 'withdrawal' && t.currency === 'BTC');
    if (s.withdrawal) { // the withdraw case ran and succeeded
        assert.ok(w, `no BTC withdrawal in ${JSON.stringify(txs.map((t) => t.info))}`);
        near(w.amount, 0.1, 'withdrawal amount');
        assert.equal(w.address, WITHDRAW_ADDRESS, 'withdrawal destination');
        assert.ok(w.timestamp >= deposit.timestamp, 'withdrawal after deposit');
    }
    assert.ok(txs.every((t) => t.currency === 'BTC'), 'the seller moved only BTC');
});

test('TWINEX_CCXT_PENDING names existing cases', () => {
    const unknown = [...pending].filter((n) => !names.has(n));
    assert.deepEqual(unknown, [], `unknown names in TWINEX_CCXT_PENDING; the cases are: ${[...names].join(', ')}`);
});
