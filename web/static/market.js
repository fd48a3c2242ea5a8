// The market page: book, trades and 1-minute candles from the public v2
// WebSocket; the signed-in user's open orders from /markets/{symbol}/orders.
(function () {
  'use strict';
  var root = document.getElementById('market');
  if (!root) { return; }
  var pair = root.dataset.pair, symbol = root.dataset.symbol;
  var status = document.getElementById('market-status');
  var bids = new Map(), asks = new Map(), trades = [], candles = new Map();
  var LEVELS = 15, TRADES = 30, CANDLES = 30;

  function cell(tr, text) { var td = document.createElement('td'); td.textContent = text; tr.appendChild(td); }
  function fill(id, rows) {
    var body = document.getElementById(id);
    if (!body) { return; }
    body.replaceChildren.apply(body, rows);
  }
  function sorted(m, desc) {
    return Array.from(m.entries()).sort(function (a, b) { return desc ? b[0] - a[0] : a[0] - b[0]; }).slice(0, LEVELS);
  }
  function drawBook() {
    var b = sorted(bids, true), a = sorted(asks, false), rows = [];
    for (var i = 0; i < Math.max(b.length, a.length); i++) {
      var tr = document.createElement('tr');
      cell(tr, b[i] ? b[i][1].q : ''); cell(tr, b[i] ? b[i][1].p : '');
      cell(tr, a[i] ? a[i][1].p : ''); cell(tr, a[i] ? a[i][1].q : '');
      rows.push(tr);
    }
    fill('book-rows', rows);
  }
  function drawTrades() {
    fill('trade-rows', trades.map(function (t) {
      var tr = document.createElement('tr');
      cell(tr, new Date(t.timestamp).toISOString().slice(11, 19)); cell(tr, t.side); cell(tr, t.price); cell(tr, t.quantity);
      return tr;
    }));
  }
  function drawCandles() {
    var rows = Array.from(candles.values()).sort(function (a, b) { return b[0] - a[0]; }).slice(0, CANDLES);
    fill('candle-rows', rows.map(function (c) {
      var tr = document.createElement('tr');
      cell(tr, new Date(c[0]).toISOString().slice(11, 16));
      for (var i = 1; i < 6; i++) { cell(tr, String(c[i])); }
      return tr;
    }));
  }
  function apply(changes) {
    changes.forEach(function (c) {
      var side = c[0] === 'buy' ? bids : asks;
      if (Number(c[2]) === 0) { side.delete(Number(c[1])); } else { side.set(Number(c[1]), { p: c[1], q: c[2] }); }
    });
  }

  var delay = 1000;
  function connect() {
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v2/marketdata');
    ws.onopen = function () {
      delay = 1000;
      status.textContent = 'Live.';
      ws.send(JSON.stringify({ type: 'subscribe', subscriptions: [{ name: 'l2', symbols: [pair] }, { name: 'candles_1m', symbols: [pair] }] }));
    };
    ws.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (m.type === 'l2_updates') {
        if (m.auction_events) { bids.clear(); asks.clear(); trades = (m.trades || []).slice(0, TRADES); drawTrades(); }
        apply(m.changes);
        drawBook();
      } else if (m.type === 'trade') {
        trades.unshift(m); trades = trades.slice(0, TRADES); drawTrades();
      } else if (m.type === 'candles_1m_updates') {
        m.changes.forEach(function (c) { candles.set(c[0], c); });
        drawCandles();
      } else if (m.result === 'error') {
        status.textContent = 'The server refused the subscription: ' + m.reason;
      }
    };
    ws.onclose = function () {
      status.textContent = 'Disconnected; reconnecting…';
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();

  if (root.dataset.signedIn) {
    var poll = function () {
      fetch('/markets/' + symbol + '/orders', { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.json() : []; }).then(function (orders) {
        fill('order-rows', orders.map(function (o) {
          var tr = document.createElement('tr');
          cell(tr, o.id); cell(tr, o.account); cell(tr, o.side); cell(tr, o.price); cell(tr, o.amount); cell(tr, o.remaining);
          return tr;
        }));
      }).catch(function () {}).finally(function () { setTimeout(poll, 2000); });
    };
    poll();
  }
})();
