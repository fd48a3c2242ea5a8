// Runs ccxt pro's gemini class (the same pinned ccxt package) against the
// live Twinex server's WebSocket feeds: every watch* method the class has.
// compat/compat_test.go runs it on a fresh server of its own with the
// default rate limits (the simulator off, so the book holds only what the
// cases put there; they run in order and build on each other). Same
// environment as ccxt_test.mjs.

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
const WS = URL.replace(/^http/, 'ws');
const SYMBOL = 'BTC/USD';

async function exchange(prefix) {
    const ex = new ccxt.pro.gemini({ apiKey: env(prefix + '_KEY'), secret: env(prefix + '_SECRET') });
    ex.urls.api = { public: URL, private: URL, web: URL, webExchange: URL, ws: WS };
    await ex.loadHttpProxyAgent(); // plain ws:// in Node (reference Appendix A)
    await ex.loadMarkets();
    return ex;
}

// within fails a promise that takes longer than ms.
function within(ms, p, what) {
    let timer;
    const t = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const pending = new Set((process.env.TWINEX_CCXT_PENDING || '').split(',').map((s) => s.trim()).filter(Boolean));

function wsTest(name, fn) {
    test(name, pending.has(name) ? { skip: 'PENDING (listed in TWINEX_CCXT_PENDING)' } : {}, fn);
}

let seller, buyer;

test.before(async () => {
    seller = await exchange('TWINEX_SELLER');
    buyer = await exchange('TWINEX_BUYER');
    // Clear what the REST cases left open, so the numbers below hold.
    await seller.cancelAllOrders(SYMBOL).catch(() => {});
    await buyer.cancelAllOrders(SYMBOL).catch(() => {});
});

test.after(async () => {
    await seller.cancelAllOrders(SYMBOL).catch(() => {});
    await buyer.cancelAllOrders(SYMBOL).catch(() => {});
    await seller.close();
    await buyer.close();
});

wsTest('watchOrderBook', async () => {
    // Three levels: a two-level snapshot is one of ccxt's traps (§5.4).
    for (const p of [31000, 31001, 31002]) {
        await seller.createOrder(SYMBOL, 'limit', 'sell', 0.01, p);
    }
    let book = await within(10000, seller.watchOrderBook(SYMBOL), 'watchOrderBook');
    assert.ok(book.asks.length >= 3, `asks ${JSON.stringify(book.asks)}`);
    assert.equal(book.asks[0][0], 31000);
    // A change arrives as an update.
    await seller.createOrder(SYMBOL, 'limit', 'sell', 0.02, 30999);
    for (let i = 0; i < 10 && book.asks[0][0] !== 30999; i++) {
        book = await within(10000, seller.watchOrderBook(SYMBOL), 'watchOrderBook update');
    }
    assert.deepEqual(book.asks[0], [30999, 0.02]);
});

wsTest('watchTrades', async () => {
    await within(10000, buyer.watchTrades(SYMBOL), 'watchTrades (snapshot)');
    const next = buyer.watchTrades(SYMBOL);
    await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.02, 30999);
    const trades = await within(10000, next, 'watchTrades');
    const last = trades[trades.length - 1];
    assert.equal(last.symbol, SYMBOL);
    assert.equal(last.price, 30999);
    assert.equal(last.amount, 0.02);
    assert.equal(last.side, 'buy');
});

wsTest('watchOHLCV', async () => {
    for (const tf of ['1m', '1h']) {
        const rows = await within(10000, buyer.watchOHLCV(SYMBOL, tf), `watchOHLCV ${tf}`);
        assert.ok(rows.length >= 1, `${tf}: ${JSON.stringify(rows)}`);
        const last = rows[rows.length - 1];
        assert.equal(last.length, 6);
        assert.ok(last[4] > 0, `${tf} close ${last[4]}`);
    }
});

wsTest('watchOrderBookForSymbols', async () => {
    for (const p of [1000, 1001, 1002]) {
        await buyer.createOrder('ETH/USD', 'limit', 'buy', 0.01, p);
    }
    // Each watch resolves with the next book that changed: the first is one
    // of the snapshots; a new ETH bid then brings the ETH book.
    const first = await within(10000, buyer.watchOrderBookForSymbols([SYMBOL, 'ETH/USD']), 'watchOrderBookForSymbols');
    assert.ok([SYMBOL, 'ETH/USD'].includes(first.symbol));
    const next = buyer.watchOrderBookForSymbols([SYMBOL, 'ETH/USD']);
    await buyer.createOrder('ETH/USD', 'limit', 'buy', 0.01, 1003);
    let book = await within(10000, next, 'watchOrderBookForSymbols (update)');
    for (let i = 0; i < 5 && book.symbol !== 'ETH/USD'; i++) {
        book = await within(10000, buyer.watchOrderBookForSymbols([SYMBOL, 'ETH/USD']), 'watchOrderBookForSymbols (update)');
    }
    assert.equal(book.symbol, 'ETH/USD');
    assert.deepEqual(Array.from(book.bids).slice(0, 4).map((l) => l[0]), [1003, 1002, 1001, 1000]);
});

wsTest('watchTradesForSymbols', async () => {
    const next = seller.watchTradesForSymbols([SYMBOL, 'ETH/USD']);
    await new Promise((r) => setTimeout(r, 500)); // let the socket open
    await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.01, 31000);
    const trades = await within(10000, next, 'watchTradesForSymbols');
    assert.ok(trades.length >= 1);
    assert.equal(trades[trades.length - 1].symbol, SYMBOL);
    assert.equal(trades[trades.length - 1].price, 31000);
});

wsTest('watchBidsAsks', async () => {
    // Both sides present: a top-of-book snapshot with one event is taken
    // by ccxt for a book event (reference §5.3).
    await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.01, 30000);
    const t = await within(10000, buyer.watchBidsAsks([SYMBOL]), 'watchBidsAsks');
    const bidask = t[SYMBOL];
    assert.ok(bidask, JSON.stringify(t));
    assert.equal(bidask.bid, 30000);
    assert.equal(bidask.ask, 31001);
    // A better bid arrives as a top-of-book change.
    const next = buyer.watchBidsAsks([SYMBOL]);
    await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.01, 30100);
    const t2 = await within(10000, next, 'watchBidsAsks (top-of-book change)');
    assert.equal(t2[SYMBOL].bid, 30100);
});

wsTest('watchOrders (real fills between two accounts)', async () => {
    const first = await within(10000, seller.watchOrders(SYMBOL), 'watchOrders (initial)');
    assert.ok(Array.isArray(first));
    const sell = await seller.createOrder(SYMBOL, 'limit', 'sell', 0.05, 30500);
    const byId = () => seller.orders ? seller.orders.filter((o) => o.id === sell.id) : [];
    for (let i = 0; i < 10 && byId().length === 0; i++) {
        await within(10000, seller.watchOrders(SYMBOL), 'watchOrders (accepted)');
    }
    const open = byId().pop();
    assert.ok(open, 'the accepted order arrived');
    assert.equal(open.status, 'open');
    assert.equal(open.price, 30500);
    const fill = seller.watchOrders(SYMBOL);
    await buyer.createOrder(SYMBOL, 'limit', 'buy', 0.05, 30500);
    await within(10000, fill, 'watchOrders (fill)');
    for (let i = 0; i < 10 && byId().pop().filled !== 0.05; i++) {
        await within(10000, seller.watchOrders(SYMBOL), 'watchOrders (fill)');
    }
    const done = byId().pop();
    assert.equal(done.status, 'closed');
    assert.equal(done.filled, 0.05);
    assert.equal(done.remaining, 0);
    const rest = await seller.fetchOrder(sell.id, SYMBOL);
    assert.equal(rest.filled, done.filled);
    assert.equal(rest.average, done.average);
});
